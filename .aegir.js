/** @type {import('aegir').PartialOptions} */
export default {
  build: {
    bundle: false
  },
  test: {
    files: ['test/**/*.spec.ts'],
    // aegir 48 gives both `--build` and `--bail` the alias `-b`, so yargs makes
    // them share a value and the default `build: true` turns on mocha `--bail`.
    // Node tests run the .ts sources directly (no build needed), so switch
    // both off to get every test run and counted.
    build: false,
    bail: false
  },
  docs: {
    // never push to gh-pages from CI; publishing is a deliberate release step
    publish: false
  },
  dependencyCheck: {
    // the `node` devDependency pins the Node.js runtime used by npm scripts;
    // it is never imported
    ignore: ['node'],
    // the demo (scripts/) is development tooling, like tests and benchmarks:
    // what it imports is a devDependency, not something users install
    productionIgnorePatterns: ['/benchmark', '/benchmarks', '/dist', '/test', '/scripts', '.aegir.js']
  }
}
