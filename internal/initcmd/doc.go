// Package initcmd implements "apilayer init" (docs/cli.md): it asks whether
// the app comes from next-api-layer, then the questions that
// next-api-layer's setup CLI asks (backend framework, backend URL, i18n,
// guest tokens, protected and auth routes), plus the web app's URL, and
// writes a commented apilayer.yaml that "apilayer check" accepts. Each
// preset writes, as a comment, the answer shapes its backend.mapping reads;
// the next-api-layer preset (the default of a migration) reads the shapes a
// backend built for next-api-layer answers, whatever its framework.
//
// It fixes the defects of next-api-layer's setup CLI: guest tokens
// always come with credentials (read from environment variables, never
// written into the file), i18n always comes with its locales and a default
// locale that is one of them, and every answer is written as a quoted YAML
// string with "$" doubled, so no answer can inject YAML or an environment
// reference. Render checks its own output with the config package before
// anything is written.
//
// Run writes the file only at the very end, through a temporary file in the
// same folder renamed into place: a cancelled run (Ctrl-C, end of input)
// leaves no file behind, and an existing file is never replaced unless the
// user confirmed it or asked for it (Options.Force).
package initcmd
