// The embedded verification service (Didit Sessions API v3 compatible). What other parts of the
// project use: configuration, start-up, and enrolment for the operator CLI.
export { loadVerifierConfig, parseTemplateKeys, hashApiKey } from './config.ts';
export type { VerifierConfig, VerifierConfigDefaults, TemplateKeyring } from './config.ts';
export { startVerifier } from './server.ts';
export type { RunningVerifier, StartVerifierOptions } from './server.ts';
export { createVerifierApp } from './app.ts';
export type { VerifierDeps } from './deps.ts';
export { lazyFaceEngine } from './face-port.ts';
export type { FaceHandle, FacePort } from './face-port.ts';
export { enrolFromImages, loadTemplate, deleteTemplate, EnrolmentError } from './templates.ts';
export { forgetVendor } from './forget.ts';
export type { StoredTemplate, EnrolDeps } from './templates.ts';
export { defaultWorkflowIds } from './workflows.ts';
export type { Workflow } from './workflows.ts';
