// Entry script of the embedded GraphiQL page. It must run before any Monaco
// editor exists, so the worker setup comes first.
import { installMonacoWorkers } from './workers.js';
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { createGraphiQLFetcher } from '@graphiql/toolkit';

installMonacoWorkers();

const defaultQuery = `# Welcome to OriginHub's GraphQL API.
#
# Most fields need a token. Make one with
#
#   go run . token --sub alice
#
# then paste it in the Headers tab below:
#
#   {"Authorization": "Bearer <token>"}
#
# Subscriptions send the same headers.
# Run the query with Ctrl-Enter.

{
  me {
    id
    subject
  }
}
`;

// The Go handler puts the GraphQL endpoint's path in a meta tag: the page's
// Content-Security-Policy forbids inline scripts, so configuration travels
// as data, not code.
function endpoints() {
  const meta = document.querySelector('meta[name="originhub-graphql-path"]');
  const path = (meta && meta.content) || '/graphql';
  const http = new URL(path, window.location.href);
  const ws = new URL(http.href);
  // Same origin, with the WebSocket scheme matching the page's (wss on https).
  ws.protocol = http.protocol === 'https:' ? 'wss:' : 'ws:';
  return { url: http.href, subscriptionUrl: ws.href };
}

// With subscriptionUrl, @graphiql/toolkit opens a graphql-ws client for each
// subscription whose connection_init payload is wsConnectionParams merged
// with the headers typed in the headers editor, so a pasted
// {"Authorization": "Bearer …"} authenticates WebSocket operations too.
const fetcher = createGraphiQLFetcher({
  ...endpoints(),
  wsConnectionParams: {},
});

const root = createRoot(document.getElementById('graphiql'));
root.render(
  createElement(GraphiQL, {
    fetcher,
    defaultQuery,
    defaultEditorToolsVisibility: 'headers',
    // Tokens must not outlive the tab in localStorage unless the user opts in.
    shouldPersistHeaders: false,
  }),
);
