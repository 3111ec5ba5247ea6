// Package actions serves the Solana Actions protocol (the API behind wallet
// "blinks", spec v2.4 of solana-developers/solana-actions) for Model Commons,
// so contributors act from the wallet they already have: contribute to a
// model's crowdfund, claim MT or a refund, deposit and withdraw MT for
// voting, vote on proposals, claim rewards, buy and sell MT.
//
// Contract:
//   - GET /actions.json maps blink URLs to the API; GET on an action returns
//     its metadata (type "action", icon, title, description, label and the
//     linked actions with their parameters); OPTIONS answers the CORS
//     preflight. Every response carries the spec's CORS headers plus
//     X-Action-Version and X-Blockchain-Ids (the cluster's CAIP-2 id).
//   - POST on an action with {"account": "<wallet>"} returns
//     {"transaction": "<base64>", "message": "…"}: an unsigned legacy
//     transaction whose fee payer and only signer is that wallet, with a
//     fresh blockhash, a compute-unit limit taken from a simulation plus a
//     margin, a compute-unit price, and the wallet's associated token
//     accounts created idempotently where the instruction needs them.
//   - A transaction is returned only if every check the program makes passed
//     against the chain's current state and the built transaction simulated
//     successfully. Otherwise the answer is a 4xx status with the spec's
//     error body {"message": "…"}, worded for the person holding the
//     wallet (5xx when the cluster cannot be reached).
//
// Nothing here holds a key or signs: the server only reads the chain and
// builds transactions; the wallet decides whether to sign them.
package actions
