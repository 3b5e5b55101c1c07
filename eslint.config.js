// `aegir lint` always uses aegir's own config; this file lets editors and
// plain `npx eslint` apply the same rules.
export { default } from 'aegir/eslint.config.js'
