// The capic extension: starts `capic lsp` with the configured Python interpreter and connects
// VS Code to it. Highlighting comes from syntaxes/capi.tmLanguage.json, without the server.
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function serverOptions() {
  const config = vscode.workspace.getConfiguration("capic");
  const interpreter = config.get("interpreter") || "python3";
  const args = ["-m", "capic", "lsp", ...config.get("args", [])];
  return { command: interpreter, args, transport: TransportKind.stdio };
}

async function start(context) {
  client = new LanguageClient("capic", "capic", serverOptions(), {
    documentSelector: [{ scheme: "file", language: "capi" }, { scheme: "untitled", language: "capi" }],
    synchronize: {
      fileEvents: vscode.workspace.createFileSystemWatcher("**/{*.capi,capic.toml,pyproject.toml}"),
    },
  });
  await client.start();
  context.subscriptions.push(client);
}

async function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand("capic.restartServer", async () => {
      if (client) {
        await client.stop();
      }
      await start(context);
    }),
    vscode.commands.registerCommand("capic.showLogs", () => client && client.outputChannel.show()),
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (event.affectsConfiguration("capic.interpreter") || event.affectsConfiguration("capic.args")) {
        await vscode.commands.executeCommand("capic.restartServer");
      }
    }),
  );
  await start(context);
}

async function deactivate() {
  if (client) {
    await client.stop();
  }
}

module.exports = { activate, deactivate };
