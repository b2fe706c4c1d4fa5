import neostandard from 'neostandard'

export default [
  ...neostandard({ ts: true, ignores: ['dist/**', 'node_modules/**', '.tap/**', 'coverage/**', 'var/**'] }),
  // A width that fits side by side in a review diff; strings stay whole so a message can still be grepped.
  {
    rules: {
      '@stylistic/max-len': ['error', {
        code: 140,
        ignoreStrings: true,
        ignoreTemplateLiterals: true,
        ignoreRegExpLiterals: true,
        ignoreUrls: true
      }]
    }
  }
]
