import { Link } from 'wouter';

export function RequireLogin({ what }: { what: string }) {
  return (
    <section>
      <p>
        <Link href="/login">Log in</Link> to see {what}.
      </p>
    </section>
  );
}
