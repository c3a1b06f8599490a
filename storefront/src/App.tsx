import { Link, Route, Switch, useLocation } from 'wouter';
import { cartCount } from './lib/cart';
import { sessionStore, useCart, useSession } from './lib/session';
import { CartPage } from './pages/CartPage';
import { CatalogPage } from './pages/CatalogPage';
import { FaultPanel } from './pages/FaultPanel';
import { LoginPage, RegisterPage } from './pages/AuthPages';
import { NotificationsPage } from './pages/NotificationsPage';
import { OrderPage } from './pages/OrderPage';
import { OrdersPage } from './pages/OrdersPage';
import { ProductPage } from './pages/ProductPage';

function Header() {
  const session = useSession();
  const cart = useCart();
  const [, navigate] = useLocation();
  const count = cartCount(cart);
  return (
    <header className="top">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <Link href="/" className="brand">
        tracemart
      </Link>
      <nav aria-label="Main">
        <Link href="/">Catalog</Link>
        <Link href="/cart" data-testid="cart-link">
          Cart{count > 0 ? ` (${count})` : ''}
        </Link>
        {session ? (
          <>
            <Link href="/orders">Orders</Link>
            <Link href="/notifications">Notifications</Link>
            <button
              type="button"
              className="link"
              onClick={() => {
                sessionStore.set(null);
                navigate('/');
              }}
            >
              Log out
            </button>
          </>
        ) : (
          <>
            <Link href="/login">Log in</Link>
            <Link href="/register">Register</Link>
          </>
        )}
        <Link href="/faults">Faults</Link>
      </nav>
    </header>
  );
}

export function App() {
  return (
    <>
      <Header />
      <main id="main" tabIndex={-1}>
        <Switch>
          <Route path="/">
            <CatalogPage />
          </Route>
          <Route path="/products/:id">{(params) => <ProductPage id={params.id} />}</Route>
          <Route path="/cart">
            <CartPage />
          </Route>
          <Route path="/login">
            <LoginPage />
          </Route>
          <Route path="/register">
            <RegisterPage />
          </Route>
          <Route path="/orders">
            <OrdersPage />
          </Route>
          <Route path="/orders/:id">{(params) => <OrderPage id={params.id} />}</Route>
          <Route path="/notifications">
            <NotificationsPage />
          </Route>
          <Route path="/faults">
            <FaultPanel />
          </Route>
          <Route>
            <section>
              <h1>Not found</h1>
              <p>
                <Link href="/">Back to the catalog</Link>
              </p>
            </section>
          </Route>
        </Switch>
      </main>
    </>
  );
}
