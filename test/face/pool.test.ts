import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createFaceEngine, EMBEDDING_SIZE, FaceError, type FaceAnalysis, type FaceEngine } from '../../src/face/index.ts';
import { FACES_DIR, selfieFrame } from '../../bench/face/common.ts';

const engines: FaceEngine[] = [];
afterAll(async () => {
  await Promise.all(engines.map((e) => e.close()));
});

const pick = ['amy/amy1', 'bernadette/bernadette2', 'howard/howard3', 'leonard/leonard4', 'penny/penny5', 'raj/raj1', 'sheldon/sheldon2', 'stuart/stuart3'];

function same(a: FaceAnalysis, b: FaceAnalysis): void {
  expect(a.face.box).toEqual(b.face.box);
  expect(a.face.pose).toEqual(b.face.pose);
  expect(a.face.quality).toEqual(b.face.quality);
  expect(Array.from(a.embedding)).toEqual(Array.from(b.embedding));
}

describe('worker pool', () => {
  it('16 parallel analyze calls give exactly the serial results', async () => {
    const engine = await createFaceEngine({ poolSize: 2 });
    engines.push(engine);
    const images = await Promise.all([...pick, ...pick].map((p, i) =>
      i < 8 ? selfieFrame(path.join(FACES_DIR, `${p}.png`)) : Promise.resolve(fs.readFileSync(path.join(FACES_DIR, `${p}.png`)))));
    expect(images).toHaveLength(16);
    const serial: FaceAnalysis[] = [];
    for (const img of images) serial.push(await engine.analyze(img));
    const parallel = await Promise.all(images.map((img) => engine.analyze(img)));
    for (let i = 0; i < images.length; i++) same(parallel[i]!, serial[i]!);
    // Different images really are different (the comparison above is not vacuous).
    expect(Array.from(serial[0]!.embedding)).not.toEqual(Array.from(serial[1]!.embedding));
    const s = engine.stats();
    expect(s.size).toBe(2);
    expect(s.completed).toBe(32);
    expect(s.busy).toBe(0);
    expect(s.queued).toBe(0);
  }, 60_000);

  it('answers BUSY when the queue is full, and keeps serving', async () => {
    const engine = await createFaceEngine({ poolSize: 1, queueLimit: 2 });
    engines.push(engine);
    const img = await selfieFrame(path.join(FACES_DIR, 'raj', 'raj2.png'));
    const calls = Array.from({ length: 6 }, () => engine.analyze(img).then(() => 'ok', (e: unknown) => (e instanceof FaceError ? e.code : 'other')));
    const outcomes = await Promise.all(calls);
    // One running + two queued; the other three are refused at once.
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(3);
    expect(outcomes.filter((o) => o === 'BUSY')).toHaveLength(3);
    expect(engine.stats().rejectedBusy).toBe(3);
    expect((await engine.analyze(img)).embedding).toHaveLength(EMBEDDING_SIZE);
  }, 60_000);

  it('rejects requests after close', async () => {
    const engine = await createFaceEngine({ poolSize: 1 });
    await engine.close();
    const err: unknown = await engine.analyze(Buffer.from([0xff, 0xd8, 0xff, 0])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FaceError);
    expect((err as FaceError).code).toBe('ENGINE_FAILURE');
  }, 60_000);
});
