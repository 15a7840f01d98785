package demo

// shellTemplate is the page every route renders: a server-rendered line
// saying who the visitor is, replaced by the React app once it starts, and
// the initial data the app reads. html/template escapes every value for its
// context: the user object inside the application/json block is JSON with
// <, > and & escaped, so it cannot end the block.
const shellTemplate = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · apilayer demo</title>
<link rel="stylesheet" href="/assets/app.css">
</head><body>
<div id="root"><main>
<h1>{{.Title}}</h1>
<p class="who">{{if .V.SignedIn}}Signed in as {{.V.Name}}{{else if .V.Guest}}Guest{{else}}Anonymous{{end}}</p>
<noscript><p>This demo's pages are built with React (@apilayer/react): please enable JavaScript.</p></noscript>
</main></div>
<script id="apilayer-initial" type="application/json">{{.Initial}}</script>
<script src="/assets/app.js" defer></script>
</body></html>
`
