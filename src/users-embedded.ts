// The half of `selfie-idp users` that needs the embedded verifier's own code: making a template
// from images (enrol) and forgetting an account's template and sessions (delete). It lives at the
// entry layer, beside cli.ts and run.ts, because the IdP reaches the verification service only
// over the v3 contract and imports nothing from src/verifier; the entry layer composes the two.
import type { EmbeddedVerifierUsers } from './idp/users/cli.ts';
import type { Store } from './store/index.ts';

export function embeddedVerifierUsers(): EmbeddedVerifierUsers {
  return {
    async enrol(store: Store, accountId: string, images: Uint8Array[]): Promise<void> {
      const { loadVerifierConfig, enrolFromImages, lazyFaceEngine } = await import('./verifier/index.ts');
      const verifierConfig = loadVerifierConfig(process.env);
      const face = lazyFaceEngine({ poolSize: 1 });
      try {
        // The template is made and sealed exactly as an approved enrolment would.
        await enrolFromImages({ store, face, templateKeyring: verifierConfig.templateKeyring }, accountId, images);
      } finally {
        await face.close();
      }
    },
    async forget(store: Store, accountId: string) {
      const { forgetVendor } = await import('./verifier/index.ts');
      return forgetVendor(store, accountId);
    },
  };
}
