import { CpuEngine } from '../src/engine/cpu/cpu-engine.ts';
import { deriveNetwork } from '../src/model/network.ts';
import { modelParams } from '../src/model/params.ts';

const n = Number(process.argv[2] ?? 5000);
const threads = Number(process.argv[3] ?? 1);
const model = (process.argv[4] ?? 'ei-clustered') as 'ei-clustered';
for (const seed of [1, 2, 3]) {
  const net = deriveNetwork(modelParams(model, n, { seed }));
  const engine = await CpuEngine.create({ networks: [net], threads });
  await engine.run(5000);
  const Q = net.layout.clusters;
  const out = [];
  for (let rep = 0; rep < 3; rep++) {
    const t2 = performance.now();
    const counts = await engine.run(20000);
    const t3 = performance.now();
    let e = 0,
      i = 0;
    for (let q = 0; q < Q; q++) {
      e += counts[q];
      i += counts[Q + q];
    }
    out.push(
      `${(e / net.layout.nE / 2).toFixed(2)}/${(i / net.layout.nI / 2).toFixed(2)} (${((t3 - t2) / 2000).toFixed(2)}s/s)`,
    );
  }
  console.log(model, n, 'seed', seed, out.join('  '));
  await engine.dispose();
}
