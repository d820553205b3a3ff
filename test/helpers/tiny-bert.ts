import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TinyBertOptions {
  /** Embedding width; default 32. */
  hidden?: number;
  /** Seed for the pseudo-random weights; default 1. */
  seed?: number;
}

/**
 * Writes a random-weight BERT-like sentence-embedding model that @huggingface/transformers can load offline:
 * <root>/<name>/config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx.
 * Returns the model directory. `name` may contain a slash (e.g. 'test/tiny-bert').
 *
 * The graph is not a transformer, just enough computation for embeddings that depend on the tokens:
 *   last_hidden_state = tanh(word_emb[input_ids] + type_emb[token_type_ids]) @ dense * attention_mask[..., None]
 */
export function writeTinyBert(root: string, name: string, opts: TinyBertOptions = {}): string {
  const hidden = opts.hidden ?? 32;
  const dir = join(root, ...name.split('/'));
  mkdirSync(join(dir, 'onnx'), { recursive: true });

  const vocab = buildVocab();
  const vocabSize = Object.keys(vocab).length;
  writeFileSync(join(dir, 'onnx', 'model.onnx'), encodeModel(vocabSize, hidden, opts.seed ?? 1));
  writeJson(join(dir, 'tokenizer.json'), tokenizerJson(vocab));
  writeJson(join(dir, 'tokenizer_config.json'), {
    tokenizer_class: 'BertTokenizer',
    do_lower_case: true,
    model_max_length: 512,
    cls_token: '[CLS]',
    sep_token: '[SEP]',
    pad_token: '[PAD]',
    unk_token: '[UNK]',
    mask_token: '[MASK]',
  });
  writeJson(join(dir, 'config.json'), {
    model_type: 'bert',
    architectures: ['BertModel'],
    hidden_size: hidden,
    vocab_size: vocabSize,
    num_attention_heads: hidden % 4 === 0 ? 4 : 1,
    num_hidden_layers: 1,
    intermediate_size: hidden * 4,
    max_position_embeddings: 512,
    type_vocab_size: 2,
  });
  return dir;
}

function writeJson(file: string, value: unknown): void {
  writeFileSync(file, JSON.stringify(value, null, 2) + '\n');
}

// ---------------------------------------------------------------------------------------------
// Tokenizer

const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

const WORDS = `
the of and to in is it that for on was with as be at by this are from or have an not but they
which one you were all we when there can has more if no so what out up about who them some
would into its than then time only could new these two may first any my now such like our over
me even most made after also did many before must through back years where much your way well
down should because each just those people how too little state good very make world still own
see men work long get here between both life being under never day same another know while last
might us great old year off come since against go came right used take three hello goodbye test
testing tests sentence sentences word words text longer short shorter memory memories agent agents
code file files function error bug fix build run server client data model embedding vector search
query result results queue service fails case lesson brand zebra zebras cat dog house car tree
water fire light dark red blue green small big fast slow happy sad open close start stop read
write find use need want think say tell ask give keep let put seem help show try call turn move
live believe hold bring begin happen provide sit stand lose pay meet include continue set learn
change lead understand watch follow create speak allow add spend grow offer remember love consider
appear buy wait serve die send expect stay fall cut reach kill remain suggest raise pass sell
require report decide pull repo repository commit branch merge test
`;

/** Specials first (fixed ids), then whole words, single characters and their "##" continuations. */
function buildVocab(): Record<string, number> {
  const tokens = new Set<string>(SPECIAL_TOKENS);
  for (const word of WORDS.split(/\s+/)) if (word) tokens.add(word);
  // Every lowercase letter and digit, alone and as a continuation, so no word falls back to [UNK];
  // punctuation is split off by the BertPreTokenizer, so it only needs single-character entries.
  const chars = 'abcdefghijklmnopqrstuvwxyz0123456789';
  for (const c of chars) tokens.add(c);
  for (const c of chars) tokens.add(`##${c}`);
  for (const c of `.,!?;:'"()[]{}-_/\\@#$%&*+=<>|~\``) tokens.add(c);
  return Object.fromEntries([...tokens].map((t, i) => [t, i]));
}

function tokenizerJson(vocab: Record<string, number>): unknown {
  const special = (token: string) => ({ SpecialToken: { id: token, type_id: 0 } });
  const specialEntry = (token: string) => ({ id: token, ids: [vocab[token]], tokens: [token] });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((content) => ({
      id: vocab[content],
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [special('[CLS]'), { Sequence: { id: 'A', type_id: 0 } }, special('[SEP]')],
      pair: [
        special('[CLS]'),
        { Sequence: { id: 'A', type_id: 0 } },
        special('[SEP]'),
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: { '[CLS]': specialEntry('[CLS]'), '[SEP]': specialEntry('[SEP]') },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// ONNX model, encoded by hand (field numbers from onnx.proto)

const FLOAT = 1; // TensorProto.DataType
const INT64 = 7;
const ATTR_INT = 2; // AttributeProto.AttributeType

/** Minimal protobuf writer: varint (wire type 0) and length-delimited (wire type 2) fields. */
class ProtoWriter {
  private readonly chunks: Uint8Array[] = [];

  /** Non-negative integers up to 2^53; every varint this model needs is one. */
  varint(field: number, value: number): this {
    this.tag(field, 0);
    this.rawVarint(value);
    return this;
  }

  bytes(field: number, data: Uint8Array): this {
    this.tag(field, 2);
    this.rawVarint(data.length);
    this.chunks.push(data);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, build: (w: ProtoWriter) => unknown): this {
    const inner = new ProtoWriter();
    build(inner);
    return this.bytes(field, inner.finish());
  }

  packedVarints(field: number, values: readonly number[]): this {
    const inner = new ProtoWriter();
    for (const v of values) inner.rawVarint(v);
    return this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    return Buffer.concat(this.chunks);
  }

  private tag(field: number, wireType: number): void {
    this.rawVarint(field * 8 + wireType);
  }

  private rawVarint(value: number): void {
    const out: number[] = [];
    // Division rather than bit shifts: JS shifts truncate to 32 bits.
    while (value >= 0x80) {
      out.push((value % 0x80) | 0x80);
      value = Math.floor(value / 0x80);
    }
    out.push(value);
    this.chunks.push(Uint8Array.from(out));
  }
}

/** mulberry32: small deterministic PRNG, returns floats in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Initializer {
  name: string;
  dims: number[];
  dataType: number;
  raw: Uint8Array;
}

function floatTensor(name: string, dims: number[], scale: number, rand: () => number): Initializer {
  const values = Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => (rand() * 2 - 1) * scale);
  return { name, dims, dataType: FLOAT, raw: new Uint8Array(values.buffer) };
}

function int64Tensor(name: string, values: number[]): Initializer {
  // raw_data is little-endian; so is every platform onnxruntime-node ships for.
  const data = BigInt64Array.from(values, (v) => BigInt(v));
  return { name, dims: [values.length], dataType: INT64, raw: new Uint8Array(data.buffer) };
}

interface Node {
  op: string;
  inputs: string[];
  output: string;
  intAttrs?: Record<string, number>;
}

function encodeModel(vocabSize: number, hidden: number, seed: number): Uint8Array {
  const rand = mulberry32(seed);
  const initializers = [
    floatTensor('word_embeddings', [vocabSize, hidden], 1, rand),
    floatTensor('token_type_embeddings', [2, hidden], 1, rand),
    // Scaled so the projection of tanh outputs stays around unit magnitude.
    floatTensor('dense', [hidden, hidden], 1 / Math.sqrt(hidden), rand),
    int64Tensor('last_axis', [2]),
  ];
  const nodes: Node[] = [
    { op: 'Gather', inputs: ['word_embeddings', 'input_ids'], output: 'words' },
    { op: 'Gather', inputs: ['token_type_embeddings', 'token_type_ids'], output: 'types' },
    { op: 'Add', inputs: ['words', 'types'], output: 'embeddings' },
    { op: 'Tanh', inputs: ['embeddings'], output: 'activated' },
    { op: 'MatMul', inputs: ['activated', 'dense'], output: 'projected' },
    // Zero the padded positions, as a real encoder's output would be ignored there anyway.
    { op: 'Cast', inputs: ['attention_mask'], output: 'mask_float', intAttrs: { to: FLOAT } },
    { op: 'Unsqueeze', inputs: ['mask_float', 'last_axis'], output: 'mask' },
    { op: 'Mul', inputs: ['projected', 'mask'], output: 'last_hidden_state' },
  ];

  const model = new ProtoWriter();
  model.varint(1, 8); // ir_version
  model.message(8, (opset) => opset.string(1, '').varint(2, 14)); // opset_import { domain, version }
  model.message(7, (graph) => {
    for (const n of nodes) {
      graph.message(1, (node) => {
        for (const input of n.inputs) node.string(1, input);
        node.string(2, n.output);
        node.string(3, n.output);
        node.string(4, n.op);
        for (const [name, value] of Object.entries(n.intAttrs ?? {})) {
          node.message(5, (attr) => attr.string(1, name).varint(3, value).varint(20, ATTR_INT));
        }
      });
    }
    graph.string(2, 'tiny_bert');
    for (const t of initializers) {
      graph.message(5, (tensor) => tensor.packedVarints(1, t.dims).varint(2, t.dataType).string(8, t.name).bytes(9, t.raw));
    }
    for (const name of ['input_ids', 'attention_mask', 'token_type_ids']) {
      graph.message(11, (info) => valueInfo(info, name, INT64, ['batch', 'sequence']));
    }
    graph.message(12, (info) => valueInfo(info, 'last_hidden_state', FLOAT, ['batch', 'sequence', hidden]));
  });
  return model.finish();
}

/** ValueInfoProto { name, type: TypeProto { tensor_type { elem_type, shape { dim* } } } }. */
function valueInfo(w: ProtoWriter, name: string, elemType: number, dims: (string | number)[]): void {
  w.string(1, name);
  w.message(2, (type) =>
    type.message(1, (tensor) =>
      tensor.varint(1, elemType).message(2, (shape) => {
        // Dimension: dim_value (1) for fixed sizes, dim_param (2) for symbolic ones.
        for (const d of dims) shape.message(1, (dim) => (typeof d === 'number' ? dim.varint(1, d) : dim.string(2, d)));
      }),
    ),
  );
}
