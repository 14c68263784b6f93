// Step 2: the workflow decides what runs; an id we do not know is a 400 on workflow_id.
import type { VerifierDeps } from '../../deps.ts';
import { fieldErrors } from '../../http/errors.ts';
import type { Workflow } from '../../workflows.ts';

export function findWorkflow(deps: Pick<VerifierDeps, 'workflows'>, workflowId: string): Workflow {
  const workflow = deps.workflows.get(workflowId);
  if (!workflow) throw fieldErrors({ workflow_id: [`Workflow "${workflowId}" not found.`] });
  return workflow;
}
