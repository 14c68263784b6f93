// The child process of ApartRenderer (bench/bursts.ts): renders a screen-light session on request.
import { render } from './bursts.ts';

process.on('message', async (m: { id: number; identity: string; seed: number; pattern: number[] }) => {
  try {
    process.send!({ id: m.id, upload: await render(m.identity, m.seed, m.pattern) });
  } catch (err) {
    process.send!({ id: m.id, error: (err as Error).message });
  }
});
