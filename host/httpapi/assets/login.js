// The login form posts to /login, which sends a wrong token back here with
// ?failed=1; say so. (A script file, not inline: the page's CSP allows
// scripts from this origin only.)
"use strict";
if (new URLSearchParams(location.search).has("failed")) {
  document.getElementById("failed").hidden = false;
}
