import { describe, expect, it } from "vitest";
import type { RawArticle, RawPost, RawRepository } from "../../domain/index.js";
import { DEFAULT_PREPROCESSING_PARAMETERS } from "../parameters.js";
import { articleByLink, loadRealArticles } from "../testing/real-articles.js";
import { cleanDocument, cleanTitle } from "./clean-document.js";

const real = loadRealArticles();
const author = { id: "a-1", fullName: "Ada Quill" };

function article(content: string, extra: Partial<RawArticle> = {}): RawArticle {
  return {
    id: "doc-1",
    category: "articles",
    author,
    platform: "blog",
    link: "https://example.com/a",
    title: "T",
    subtitle: "",
    content,
    ...extra,
  };
}

describe.skipIf(real === undefined)("cleaning the real LLM Twin articles", () => {
  const articles = real?.articles ?? [];
  const clean = (fragment: string) => cleanDocument(articleByLink(articles, fragment)).content;

  it("drops the Substack page chrome and keeps the code (abliteration article)", () => {
    const raw = articleByLink(articles, "uncensor-any-llm-with-abliteration");
    const content = cleanDocument(raw).content;
    for (const chrome of [
      "SubscribeSign in",
      "Copy link",
      "Facebook",
      "Discussion about this post",
      "Ready for more?",
      "This site requires JavaScript",
      "Privacy ∙ Terms",
      "© 2024",
    ]) {
      expect(raw.content).toContain(chrome);
      expect(content).not.toContain(chrome);
    }
    expect(content).toMatch(/^Uncensor any LLM with abliteration\n\nFine-tuning without retraining\n\n/);
    expect(content).toContain("```\n!pip install transformers transformers_stream_generator");
    expect(content).toContain("torch.set_grad_enabled(False)");
    expect(content).not.toMatch(/follow me on/i);
    expect(content).not.toMatch(/^Image by author$/m);
  });

  it("turns styled Unicode letters into plain text and removes the newsletter boilerplate", () => {
    const raw = articleByLink(articles, "dml-7-steps-on-how-to-fine-tune-an");
    const content = cleanDocument(raw).content;
    expect(raw.content).toContain("𝗗𝗲𝗽𝗹𝗼𝘆𝗶𝗻𝗴 & 𝗺𝗮𝗻𝗮𝗴𝗶𝗻𝗴");
    expect(content).toContain("Deploying & managing ML models is hard, especially when running your models on GPUs.");
    for (const boilerplate of [
      "Hello there, I am Paul Iusztin",
      "Whenever you’re ready",
      "That’s it for today",
      "Have a fantastic weekend",
      "Previous Lessons",
      "PreviousNext",
    ]) {
      expect(content).not.toContain(boilerplate);
    }
    expect(content).not.toMatch(/^Paul$/m);
    // A wrapped numbered item stays one paragraph, its number kept.
    expect(content).toContain("1. Mixed-precision: During training you use both FP32 and FP16 in the following way:");
    expect(content).not.toContain("[Image by the Author]");
    expect(content).not.toMatch(/\p{Extended_Pictographic}/u);
  });

  it("cuts the navigation, sidebar and table of contents of the personal blog, keeps code and numbers", () => {
    const raw = articleByLink(articles, "2024-07-29_Finetune_Llama31");
    const content = cleanDocument(raw).content;
    for (const navigation of [
      "Hands-On GNNs",
      "Graph Isomorphism Network",
      "Pre-order the",
      "Copyright 2023",
      "Sections",
    ]) {
      expect(raw.content).toContain(navigation);
      expect(content).not.toContain(navigation);
    }
    expect(content).toContain("but we will set it to 2,048 in this example");
    expect(content).toContain('quant_methods = ["q2_k", "q3_k_m", "q4_k_m", "q5_k_m", "q6_k", "q8_0"]');
    // The copy-button icon ("__") after code blocks is gone, the code is intact.
    expect(content).toContain('model.push_to_hub_gguf("mlabonne/FineLlama-3.1-8B-GGUF", tokenizer, quant)\n```');
    // Hard-wrapped words joined back: "fine-\ntuning" → "fine-tuning".
    expect(raw.content).toContain("supervised fine-\ntuning");
    expect(content).toContain("supervised fine-tuning");
    expect(content).toContain("`q2_k`");
  });

  it("removes Medium's header and footer and separates glued sentences", () => {
    const raw = articleByLink(articles, "medium.com/decodingml/an-end-to-end-framework");
    const content = cleanDocument(raw).content;
    for (const chrome of [
      "Open in app",
      "Sign up to discover human stories",
      "Written by Paul Iusztin",
      "Recommended from Medium",
      "ListenShare",
    ]) {
      expect(raw.content).toContain(chrome);
      expect(content).not.toContain(chrome);
    }
    expect(raw.content).toContain("into an LLM.Image by DALL-EWhy is this course different?By finishing");
    expect(content).toContain("into an LLM. Why is this course different? By finishing");
  });

  it("keeps accents and non-ASCII letters", () => {
    const content = clean("graph-attention-networks-in-python");
    expect(content).toContain("Veličković");
  });

  it("never leaves link or image syntax, HTML tags or emoji in the prose of any article", () => {
    for (const raw of articles) {
      const cleaned = cleanDocument(raw);
      const prose = cleaned.content.replace(/```[\s\S]*?```/g, "CODE").replace(/`[^`\n]*`/g, "code");
      expect(prose, raw.link).not.toMatch(/!\[[^\]]*\]\(|\]\(https?:|<\/?(?:a|img|div|span|p)\b[^>]*>/);
      expect(prose, raw.link).not.toMatch(/\p{Extended_Pictographic}/u);
      expect(prose, raw.link).not.toMatch(/ {2,}|\n{3,}/);
      expect(cleaned.content.length, raw.link).toBeGreaterThan(1_000);
      expect(cleaned.title, raw.link).not.toMatch(/ - (?:by )?(?:Paul Iusztin|Maxime Labonne)$/);
    }
  });
});

describe("cleaning rules", () => {
  it("keeps anchor text of markdown and HTML links and drops images", () => {
    const content = cleanDocument(
      article(
        'See [the docs](https://example.com/docs "Docs") and <a href="https://x.y">this page</a>. ![diagram](https://img/x.png)<img src="a.png"> Done.',
      ),
    ).content;
    expect(content).toContain("See the docs and this page. Done.");
  });

  it("keeps inline code untouched, including markdown-looking characters", () => {
    const content = cleanDocument(
      article("Call `get_peft_model(**kwargs)` with `[a](b)` then **bold** and _italic_ words."),
    ).content;
    expect(content).toContain("Call `get_peft_model(**kwargs)` with `[a](b)` then bold and italic words.");
  });

  it("keeps fenced code verbatim, including emoji and indentation", () => {
    const code = "```python\ndef f(x):\n    return x * 2  # 🚀 fast\n```";
    const content = cleanDocument(article(`Intro 🚀 text.\n\n${code}\n\nAfter.`)).content;
    expect(content).toContain("def f(x):\n    return x * 2  # 🚀 fast");
    expect(content).toContain("Intro text.");
  });

  it("keeps snake_case identifiers and numbers in prose", () => {
    const content = cleanDocument(
      article("Set max_seq_length to 2,048 (about 3.5 GB) and lora_alpha = 16; cost: $0.10/hour, 95% of runs."),
    ).content;
    expect(content).toContain(
      "Set max_seq_length to 2,048 (about 3.5 GB) and lora_alpha = 16; cost: $0.10/hour, 95% of runs.",
    );
  });

  it("decodes HTML entities and collapses whitespace", () => {
    const content = cleanDocument(
      article("Tom &amp; Jerry&nbsp;&#8212;   a   classic.\n\n\n\nNext   paragraph."),
    ).content;
    expect(content).toContain("Tom & Jerry — a classic.\n\nNext paragraph.");
  });

  it("strips the author's name from the title", () => {
    expect(cleanTitle("Real-time feature pipelines for RAG - by Paul Iusztin", "Paul Iusztin")).toBe(
      "Real-time feature pipelines for RAG",
    );
    expect(cleanTitle("Maxime Labonne - Fine-tune Llama 3.1", "Maxime Labonne")).toBe("Fine-tune Llama 3.1");
    expect(cleanTitle("Llama 3 - a review", "Maxime Labonne")).toBe("Llama 3 - a review");
  });

  it("cleans posts: hashtags become words, emoji and follow calls go, the first line is the title", () => {
    const post: RawPost = {
      id: "p-1",
      category: "posts",
      author,
      platform: "linkedin",
      link: "",
      content:
        "RAG is not dead 🔥\n\nLong context windows don't replace retrieval: cost grows with every token.\n\nFollow me for more tips on #LLMOps and #RAG!",
    };
    const cleaned = cleanDocument(post);
    expect(cleaned.title).toBe("RAG is not dead");
    expect(cleaned.content).toBe(
      "RAG is not dead\n\nLong context windows don't replace retrieval: cost grows with every token.",
    );
  });

  it("cleans repositories: code kept, each file prefixed by its path, noise dropped", () => {
    const repository: RawRepository = {
      id: "r-1",
      category: "repositories",
      author,
      platform: "github",
      link: "https://github.com/ada/twin",
      name: "ada/twin",
      files: {
        "src/main.py": "def main():\r\n    print('héllo 🚀')   \r\n",
        "README.md": "# Twin\n\nA demo.",
        "package-lock.json": "{}",
        "assets/logo.png": "\u0089PNG\u0000\u0000",
        "node_modules/x/index.js": "module.exports = 1;",
        "data/blob.txt": "\u0000\u0001binary",
        "empty.py": "   \n",
      },
    };
    const cleaned = cleanDocument(repository);
    expect(cleaned.title).toBe("ada/twin");
    expect(cleaned.content).toBe(
      "==> README.md <==\n# Twin\n\nA demo.\n\n==> src/main.py <==\ndef main():\n    print('héllo 🚀')",
    );
  });

  it("drops files over the size limit", () => {
    const repository: RawRepository = {
      id: "r-2",
      category: "repositories",
      author,
      platform: "github",
      link: "",
      name: "big",
      files: { "big.py": "x = 1\n".repeat(100), "small.py": "y = 2" },
    };
    const parameters = {
      ...DEFAULT_PREPROCESSING_PARAMETERS,
      cleaning: { repositories: { ...DEFAULT_PREPROCESSING_PARAMETERS.cleaning.repositories, maxFileBytes: 100 } },
    };
    expect(cleanDocument(repository, { parameters }).content).toBe("==> small.py <==\ny = 2");
  });

  it("uses the given source hash, or hashes the raw document", () => {
    const raw = article("Text.");
    expect(cleanDocument(raw, { sourceHash: "abc" }).sourceHash).toBe("abc");
    expect(cleanDocument(raw).sourceHash).toMatch(/^[0-9a-f]{64}$/);
    expect(cleanDocument(raw).sourceHash).toBe(cleanDocument({ ...raw }).sourceHash);
  });
});
