// Preloaded (node --require) into a program run to record every file it opens, and its size:
// GOLD_TRACE_OPENS names the JSON file written at exit ({opens: [{path, bytes}]}). What the
// fresh-machine end-to-end run and the preview benchmark measure: which files the program's
// evaluation reads (child processes are not traced: an unchanged stack runs none).
"use strict";
const fs = require("fs");
const path = require("path");
const out = process.env.GOLD_TRACE_OPENS;
const opens = [];
const note = (p) => {
    if (typeof p !== "string" && !(p instanceof URL) && !Buffer.isBuffer(p)) return;
    const file = path.resolve(String(p instanceof URL ? p.pathname : p));
    let bytes = 0;
    try {
        bytes = realStat(file).size;
    } catch {
        // opened to be created, or missing
    }
    opens.push({ path: file, bytes });
};
const realStat = fs.statSync;
const openSync = fs.openSync;
fs.openSync = function (p, ...rest) {
    note(p);
    return openSync.call(this, p, ...rest);
};
const open = fs.open;
fs.open = function (p, ...rest) {
    note(p);
    return open.call(this, p, ...rest);
};
const popen = fs.promises.open;
fs.promises.open = function (p, ...rest) {
    note(p);
    return popen.call(this, p, ...rest);
};
const preadFile = fs.promises.readFile;
fs.promises.readFile = function (p, ...rest) {
    if (typeof p === "string" || p instanceof URL) note(p);
    return preadFile.call(this, p, ...rest);
};
if (out) process.on("exit", () => fs.writeFileSync(out, JSON.stringify({ opens })));
