// `selfie-idp liveness report [--since DATE] [--workflow ID] [--json]`: the field calibration
// report (report.ts) on the verifier's stored sessions, in the same store as the running server
// (REDIS_URL or DATA_DIR) and with its workflows (VERIFIER_WORKFLOWS_FILE).
import { loadConfig } from '../config.ts';
import { eachArg } from '../cli-io.ts';
import { openStore } from '../store/index.ts';
import { UsageError } from '../usage-error.ts';
import { loadVerifierConfig } from './config.ts';
import { K } from './keys.ts';
import { fieldReport, formatReport } from './report.ts';
import { sessionsIn } from './sessions/repo.ts';

export async function runLivenessReport(argv: string[]): Promise<number> {
  let since: number | undefined;
  let workflowId: string | undefined;
  let json = false;
  for (const { arg, value } of eachArg(argv)) {
    if (arg === '--since') {
      const raw = value();
      since = Date.parse(raw);
      if (!/^\d{4}-\d{2}-\d{2}/.test(raw) || Number.isNaN(since)) throw new UsageError(`liveness report: --since takes a date (YYYY-MM-DD, or an ISO time), got "${raw}"`);
    } else if (arg === '--workflow') workflowId = value();
    else if (arg === '--json') json = true;
    else throw new UsageError(`liveness report: unknown option ${arg}`);
  }
  const config = loadConfig();
  const verifier = loadVerifierConfig(process.env);
  if (workflowId !== undefined && !verifier.workflows.some((w) => w.workflow_id === workflowId)) {
    throw new UsageError(`liveness report: no workflow "${workflowId}" in ${verifier.workflowsFile}`);
  }
  const store = await openStore(config);
  try {
    const records = await sessionsIn(store, K.allSessions());
    const report = fieldReport(records, verifier.workflows, { ...(since !== undefined ? { since } : {}), ...(workflowId !== undefined ? { workflowId } : {}) });
    process.stdout.write(json ? `${JSON.stringify(report)}\n` : `${formatReport(report)}\n`);
    return 0;
  } finally {
    await store.close();
  }
}
