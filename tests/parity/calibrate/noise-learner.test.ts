import { describe, expect, it } from 'vitest';
import { parseJsonText } from '../../../parity/compare/json-text.js';
import { NoiseLearner, routeNoise, rulePaths, toNoiseProfile } from '../../../parity/runner/calibrate-learn.js';
import { compareRules } from '../../../parity/compare/rules.js';
import { FakeNoiseStore } from '../../../parity/runner/noise-store.js';

const json = (text: string) => parseJsonText(text);

describe('the noise learner', () => {
  it('tells always-noisy, sometimes-noisy and stable paths apart, with rates, kinds, ranges and distances', () => {
    const learner = new NoiseLearner('r');
    learner.observe(json('{"id":"0b7a3f52-8a8e-4c52-9d0e-1a2b3c4d5e6f","n":3,"score":1.5,"at":"2024-01-01T00:00:00.000100"}'),
      json('{"id":"9c1e7a11-2b3c-4d5e-8f90-abcdefabcdef","n":3,"score":1.5,"at":"2024-01-01T00:00:00.000300"}'));
    learner.observe(json('{"id":"11111111-2b3c-4d5e-8f90-abcdefabcdef","n":3,"score":1.25,"at":"2024-01-01T00:00:01.000000"}'),
      json('{"id":"22222222-2b3c-4d5e-8f90-abcdefabcdef","n":3,"score":1.75,"at":"2024-01-01T00:00:01.000000"}'));
    const learned = learner.learned('2024-01-02T00:00:00.000Z');
    const by = Object.fromEntries(learned.paths.map((path) => [path.path, path]));
    expect(by['$.id']).toMatchObject({ varies: 'always', rate: 1, kind: 'uuid' });
    expect(by['$.n']).toMatchObject({ varies: 'never', rate: 0, kind: 'integer', range: { min: 3, max: 3 } });
    expect(by['$.score']).toMatchObject({ varies: 'sometimes', rate: 0.5, kind: 'number', range: { min: 1.25, max: 1.75 }, maxDelta: 0.5 });
    expect(by['$.at']).toMatchObject({ varies: 'sometimes', kind: 'timestamp', format: '9999-99-99T99:99:99.999999' });
    expect(by['$.at']!.maxDelta).toBeCloseTo(0.2, 3);
    const profile = toNoiseProfile(learned);
    expect(Object.keys(profile.paths).sort()).toEqual(['$.at', '$.id', '$.score']);
    // Two requests' timing jitter is not held against the reimplementation; its format is.
    expect(profile.paths['$.at']).toEqual({ varies: 'sometimes', rate: 0.5, kind: 'timestamp', format: '9999-99-99T99:99:99.999999' });
    expect(profile.paths['$.score']!.maxDelta).toBe(0.5);
  });

  it('pools array items under [*] and counts a length change as a difference', () => {
    const learner = new NoiseLearner('r');
    learner.observe(json('{"items":[{"v":1},{"v":2}]}'), json('{"items":[{"v":1}]}'));
    const by = Object.fromEntries(learner.learned().paths.map((path) => [path.path, path]));
    expect(by['$.items[*].v']).toMatchObject({ samples: 1, differed: 0 });
    expect(by['$.items[*]']).toMatchObject({ samples: 1, differed: 1, kind: 'object' });
    expect(by['$.items.length']).toMatchObject({ varies: 'always', kind: 'integer' });
  });
});

describe('learned noise against the route\'s own rules', () => {
  it('leaves out of the profile the paths the route\'s rules name: what a person wrote outranks what was learned', () => {
    const learner = new NoiseLearner('r');
    learner.observe(json('{"a":1,"b":"x","c":true}'), json('{"a":2,"b":"y","c":false}'));
    const overruled = rulePaths({ ignore: ['$.b'], paths: { '$.a': { as: 'exact' } } });
    expect(Object.keys(toNoiseProfile(learner.learned(), overruled).paths)).toEqual(['$.c']);
  });
});

describe('noise pinned or overruled in the route\'s rules', () => {
  const learner = new NoiseLearner('r');
  learner.observe(json('{"a":1,"b":"x","c":true}'), json('{"a":2,"b":"y","c":false}'));
  const learned = learner.learned('2024-01-02T00:00:00.000Z');

  it('applies a pinned path with or without a calibration, and marks it pinned', () => {
    const rules = compareRules({ noise: { '$.request_id': { kind: 'uuid' } } });
    expect(routeNoise('r', undefined, rules)).toEqual({ id: 'r@routes.yaml', routeId: 'r', samples: 0, paths: { '$.request_id': { varies: 'always', rate: 1, kind: 'uuid', pinned: true } } });
    const both = routeNoise('r', learned, rules)!;
    expect(both.id).toBe('r@2024-01-02T00:00:00.000Z+routes.yaml');
    expect(Object.keys(both.paths).sort()).toEqual(['$.a', '$.b', '$.c', '$.request_id']);
  });

  it('drops what calibrate learnt at a path the rules turn off, and at the paths the rules compare themselves', () => {
    const rules = compareRules({ ignore: ['$.b'], noise: { '$.a': 'off' } });
    expect(Object.keys(routeNoise('r', learned, rules)!.paths)).toEqual(['$.c']);
    expect(routeNoise('r', undefined, compareRules({ noise: { '$.a': 'off' } }))).toBeUndefined();
  });

  it('refuses a pinned path without a kind, or with a rate outside (0, 1]', () => {
    expect(() => compareRules({ noise: { '$.a': { varies: 'always' } as never } })).toThrow();
    expect(() => compareRules({ noise: { '$.a': { kind: 'uuid', rate: 0 } } })).toThrow();
  });
});

describe('the fake noise store', () => {
  it('keeps a pinned path when a route is calibrated again', async () => {
    const store = new FakeNoiseStore();
    const learner = new NoiseLearner('r');
    learner.observe(json('{"a":1}'), json('{"a":2}'));
    await store.save(learner.learned());
    expect(await store.pin('r', '$.a', true)).toBe(true);
    const again = new NoiseLearner('r');
    again.observe(json('{"a":1}'), json('{"a":1}'));
    await store.save(again.learned());
    expect((await store.load('r'))!.paths).toEqual([expect.objectContaining({ path: '$.a', varies: 'always', pinned: true })]);
    expect(await store.pin('r', '$.missing', true)).toBe(false);
  });
});
