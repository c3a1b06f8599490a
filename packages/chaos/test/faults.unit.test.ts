import { describe, expect, it } from 'vitest';
import { FAULT_SETS, faultGroup, KILL_TARGETS, parseFault, parseFaultList, targetClass, unknownTargets } from '../src/faults';

describe('fault specs', () => {
  it('when a kill names two processes, then both are its targets, killed together', () => {
    expect(parseFault('kill:nats-2+nats-3')).toEqual({ id: 'kill:nats-2+nats-3', kind: 'kill', targets: ['nats-2', 'nats-3'] });
  });

  it.each([
    ['kill', 'no target'],
    ['stop:order', 'unknown kind'],
    ['kill:order+payment+user', 'three targets'],
    ['kill:order+order', 'the same target twice'],
    ['pause:order+payment', 'a pause of two'],
    ['exhaust:order', 'exhaust of something else than FerretDB'],
    ['kill:../etc', 'not a process name'],
  ])('when the spec is %s (%s), then it is refused', (raw) => {
    expect(() => parseFault(raw)).toThrow(/fault/);
  });

  it('when sets and specs are mixed, then they expand in order and each fault runs once', () => {
    const faults = parseFaultList('ci, kill:order, pause:payment');
    expect(faults.map((f) => f.id)).toEqual(['kill:order', 'kill:payment', 'kill:nats-1', 'pause:payment']);
  });

  it('when no fault is named, then the run is refused', () => {
    expect(() => parseFaultList(' , ')).toThrow('no faults given');
  });

  it('when the default set runs, then every process is killed alone and once in a pair, one service is paused and the connections exhausted', () => {
    const all = parseFaultList('all');
    const singles = all.filter((f) => f.kind === 'kill' && f.targets.length === 1).flatMap((f) => f.targets);
    const paired = all.filter((f) => f.targets.length === 2).flatMap((f) => f.targets);
    expect(singles).toEqual([...KILL_TARGETS]);
    expect([...paired].sort()).toEqual([...KILL_TARGETS].sort());
    expect(all.filter((f) => f.kind === 'pause').map((f) => f.id)).toEqual(['pause:order']);
    expect(all.filter((f) => f.kind === 'exhaust').map((f) => f.id)).toEqual(['exhaust:ferretdb']);
    expect(all).toHaveLength((FAULT_SETS.singles?.length ?? 0) + (FAULT_SETS.pairs?.length ?? 0) + 2);
  });

  it('when the stack runs a single NATS node, then nats-2 and nats-3 are named as unknown', () => {
    const running = new Set(['order', 'payment', 'nats-1']);
    expect(unknownTargets(parseFaultList('kill:order,kill:nats-2+nats-3'), running)).toEqual(['nats-2', 'nats-3']);
  });

  it('when faults are summarised, then they are grouped by kind and by what the target is', () => {
    expect(targetClass('order-2')).toBe('service');
    expect(targetClass('nats-3')).toBe('nats');
    expect(faultGroup(parseFault('kill:order-2'))).toBe('kill service');
    expect(faultGroup(parseFault('kill:nats-1'))).toBe('kill nats node');
    expect(faultGroup(parseFault('kill:postgres'))).toBe('kill postgres');
    expect(faultGroup(parseFault('kill:gateway+nats-1'))).toBe('kill two at once');
    expect(faultGroup(parseFault('pause:order'))).toBe('pause service');
    expect(faultGroup(parseFault('exhaust:ferretdb'))).toBe('exhaust db connections');
  });
});
