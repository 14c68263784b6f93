// A risk found after the features ran (ALREADY_ENROLLED, DUPLICATED_FACE, FACE_IN_BLOCKLIST) goes
// on the verdict's first block, LIVENESS where there is one (where Didit reports face risks), and
// moves that block's and the session's status.
import type { FeatureStatus, Warning } from '../../didit/index.ts';
import { warning } from '../steps/warnings.ts';
import type { Verdict } from './judge.ts';

type Block = { status: FeatureStatus; warnings: Warning[]; node_id: string };

const worse = (a: FeatureStatus, b: FeatureStatus): FeatureStatus => (a === 'Declined' || b === 'Declined' ? 'Declined' : a === 'In Review' || b === 'In Review' ? 'In Review' : a);

/** `status`: Declined, or In Review (which leaves a Declined block or session declined). */
export function flagVerdict(verdict: Verdict, risk: string, status: 'Declined' | 'In Review', additional: Record<string, unknown> | null = null): Verdict {
  const logType = status === 'Declined' ? 'error' : 'warning';
  const mark = <B extends Block>(blocks: B[], feature: 'LIVENESS' | 'FACE_MATCH' | 'IP_ANALYSIS'): B[] => [
    { ...blocks[0]!, status: worse(blocks[0]!.status, status), warnings: [...blocks[0]!.warnings, warning(feature, risk, logType, blocks[0]!.node_id, additional)] },
    ...blocks.slice(1),
  ];
  const sessionStatus = worse(verdict.status as FeatureStatus, status) as Verdict['status'];
  if (verdict.liveness_checks?.length) return { ...verdict, liveness_checks: mark(verdict.liveness_checks, 'LIVENESS'), status: sessionStatus };
  if (verdict.face_matches?.length) return { ...verdict, face_matches: mark(verdict.face_matches, 'FACE_MATCH'), status: sessionStatus };
  if (verdict.ip_analyses?.length) return { ...verdict, ip_analyses: mark(verdict.ip_analyses, 'IP_ANALYSIS'), status: sessionStatus };
  return { ...verdict, status: sessionStatus };
}
