// Package initcmd implements "apilayer init": it asks the questions that
// next-api-layer's setup CLI asks (backend framework, backend URL, i18n,
// guest tokens, protected and auth routes), plus the web app's URL, and
// writes a commented apilayer.yaml that "apilayer check" accepts.
//
// It fixes the seed CLI's defects (BEHAVIOUR.md 10.6 item 51): guest tokens
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
