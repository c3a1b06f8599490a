import { describe, expect, it } from 'vitest';
import { decideCharge } from '../src/domain/charge';

describe('simulated card processor rules', () => {
  it('when the token is tok_visa, then the charge succeeds', () => {
    expect(decideCharge('tok_visa')).toEqual({ outcome: 'charged' });
  });
  it('when the token is tok_chargeDeclined, then the charge is declined', () => {
    expect(decideCharge('tok_chargeDeclined')).toEqual({ outcome: 'declined', reason: 'card declined' });
  });
  it('when the token is unknown, then the charge is declined', () => {
    expect(decideCharge('tok_other')).toMatchObject({ outcome: 'declined' });
  });
});
