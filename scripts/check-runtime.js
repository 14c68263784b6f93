// Plain JavaScript on purpose: it must give a readable message on an old Node, not a syntax error.
const [major, minor] = process.versions.node.split('.').map(Number);
if (!(major > 22 || (major === 22 && minor >= 18))) {
  console.error(
    `selfie-idp needs Node.js 22.18+ (found ${process.version}). \`npm ci\` installs Node 24 from the npm registry ` +
      'into node_modules/.bin, which npm scripts put first on PATH; run the project through npm (npm start, npm test, npx selfie-idp).',
  );
  process.exit(1);
}
