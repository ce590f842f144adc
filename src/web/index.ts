/** The chat page served by the RAG service at `/` (issue 6): the page, its assets and `GET /authors`. */
export { type ChatPageAsset, type ChatPageAssets, defaultAssetsDirectory, loadChatPageAssets } from "./assets.js";
export { type ChatPageOptions, registerChatPage } from "./chat-page.js";
