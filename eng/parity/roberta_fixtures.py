"""Reference fixture for the RoBERTa encoder: a tiny RoBERTa with random weights in a Hugging Face folder layout, an
input batch with padding and the reference's last hidden state. The C# test loads the folder's weights into
BertEncoder (model_type roberta) and must match within 1e-4 at every real (unpadded) position.

  /usr/bin/python3 eng/parity/roberta_fixtures.py                  # Debian's python3-torch: the reference below
  python3 eng/parity/roberta_fixtures.py --out /tmp/rf             # where transformers is installed: RobertaModel itself

The reference, when transformers is not installed (it is not in Debian), is RoBERTa written from torch's own modules:
nn.TransformerEncoderLayer is BERT's post-LayerNorm block (self-attention, residual, LayerNorm, GELU feed-forward,
residual, LayerNorm), so only the embeddings are written by hand here, with Hugging Face's position rule
(create_position_ids_from_input_ids: padded tokens get the padding id, real ones count on from it). Where transformers
is installed (a GPU machine of eng/gpu), the same weights go through transformers' RobertaModel instead, and the
script says which reference it used in roberta-tiny-reference.txt.

Writes into test/fixtures/roberta (or --out):
  roberta-tiny/config.json, roberta-tiny/pytorch_model.bin   the folder: "roberta." keys, plus the pooler, the masked
                 language model head (lm_head.*) and the position_ids buffer that published checkpoints carry
  roberta-tiny-io.pt   {"input_ids", "attention_mask": [2,S] int64, "last_hidden_state": [2,S,H], zero where padded}
  roberta-tiny-reference.txt   which reference wrote it
"""
import argparse, json, os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "..", "test", "fixtures", "roberta")

CONFIG = dict(model_type="roberta", vocab_size=120, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
              intermediate_size=64, hidden_act="gelu", hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
              max_position_embeddings=20, type_vocab_size=1, layer_norm_eps=1e-5, pad_token_id=1, bos_token_id=0,
              eos_token_id=2, position_embedding_type="absolute")


def random_state_dict(c, generator):
    """Every weight drawn at random (LayerNorms too, so that a swapped scale and shift shows), Hugging Face's names."""
    h, f = c["hidden_size"], c["intermediate_size"]

    def r(*shape, scale=0.3):
        return torch.randn(*shape, generator=generator) * scale

    sd = {
        "roberta.embeddings.word_embeddings.weight": r(c["vocab_size"], h),
        "roberta.embeddings.position_embeddings.weight": r(c["max_position_embeddings"], h),
        "roberta.embeddings.token_type_embeddings.weight": r(c["type_vocab_size"], h),
        "roberta.embeddings.LayerNorm.weight": 1 + r(h, scale=0.1), "roberta.embeddings.LayerNorm.bias": r(h, scale=0.1),
    }
    for i in range(c["num_hidden_layers"]):
        p = f"roberta.encoder.layer.{i}."
        for name in ("query", "key", "value"):
            sd[p + f"attention.self.{name}.weight"], sd[p + f"attention.self.{name}.bias"] = r(h, h), r(h, scale=0.1)
        sd[p + "attention.output.dense.weight"], sd[p + "attention.output.dense.bias"] = r(h, h), r(h, scale=0.1)
        sd[p + "attention.output.LayerNorm.weight"], sd[p + "attention.output.LayerNorm.bias"] = 1 + r(h, scale=0.1), r(h, scale=0.1)
        sd[p + "intermediate.dense.weight"], sd[p + "intermediate.dense.bias"] = r(f, h), r(f, scale=0.1)
        sd[p + "output.dense.weight"], sd[p + "output.dense.bias"] = r(h, f), r(h, scale=0.1)
        sd[p + "output.LayerNorm.weight"], sd[p + "output.LayerNorm.bias"] = 1 + r(h, scale=0.1), r(h, scale=0.1)
    # What published checkpoints carry besides the encoder; the C# loader must drop them.
    sd["roberta.pooler.dense.weight"], sd["roberta.pooler.dense.bias"] = r(h, h), r(h, scale=0.1)
    sd["roberta.embeddings.position_ids"] = torch.arange(c["max_position_embeddings"]).unsqueeze(0)
    sd["lm_head.dense.weight"], sd["lm_head.dense.bias"] = r(h, h), r(h)
    sd["lm_head.layer_norm.weight"], sd["lm_head.layer_norm.bias"] = r(h), r(h)
    sd["lm_head.bias"] = r(c["vocab_size"])
    return sd


def torch_reference(c, sd, input_ids, attention_mask):
    h, pad = c["hidden_size"], c["pad_token_id"]
    word = torch.nn.Embedding.from_pretrained(sd["roberta.embeddings.word_embeddings.weight"])
    position = torch.nn.Embedding.from_pretrained(sd["roberta.embeddings.position_embeddings.weight"])
    token_type = torch.nn.Embedding.from_pretrained(sd["roberta.embeddings.token_type_embeddings.weight"])
    norm = torch.nn.LayerNorm(h, eps=c["layer_norm_eps"])
    norm.weight.data, norm.bias.data = sd["roberta.embeddings.LayerNorm.weight"], sd["roberta.embeddings.LayerNorm.bias"]
    # Hugging Face's rule, written from its definition: count the non-padding tokens, start after the padding id.
    not_pad = input_ids.ne(pad).long()
    position_ids = torch.cumsum(not_pad, dim=1) * not_pad + pad
    x = norm(word(input_ids) + token_type(torch.zeros_like(input_ids)) + position(position_ids))
    for i in range(c["num_hidden_layers"]):
        p = f"roberta.encoder.layer.{i}."
        layer = torch.nn.TransformerEncoderLayer(h, c["num_attention_heads"], c["intermediate_size"], dropout=0.0,
                                                 activation="gelu", layer_norm_eps=c["layer_norm_eps"], batch_first=True)
        attention = layer.self_attn
        attention.in_proj_weight.data = torch.cat([sd[p + f"attention.self.{n}.weight"] for n in ("query", "key", "value")])
        attention.in_proj_bias.data = torch.cat([sd[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")])
        attention.out_proj.weight.data, attention.out_proj.bias.data = sd[p + "attention.output.dense.weight"], sd[p + "attention.output.dense.bias"]
        layer.norm1.weight.data, layer.norm1.bias.data = sd[p + "attention.output.LayerNorm.weight"], sd[p + "attention.output.LayerNorm.bias"]
        layer.linear1.weight.data, layer.linear1.bias.data = sd[p + "intermediate.dense.weight"], sd[p + "intermediate.dense.bias"]
        layer.linear2.weight.data, layer.linear2.bias.data = sd[p + "output.dense.weight"], sd[p + "output.dense.bias"]
        layer.norm2.weight.data, layer.norm2.bias.data = sd[p + "output.LayerNorm.weight"], sd[p + "output.LayerNorm.bias"]
        layer.eval()
        x = layer(x, src_key_padding_mask=attention_mask.eq(0))
    return x


def transformers_reference(c, sd, input_ids, attention_mask):
    from transformers import RobertaConfig, RobertaModel
    model = RobertaModel(RobertaConfig(**{k: v for k, v in c.items() if k != "model_type"}), add_pooling_layer=False).eval()
    missing, unexpected = model.load_state_dict({k[len("roberta."):]: v for k, v in sd.items() if k.startswith("roberta.")}, strict=False)
    assert not [k for k in missing if "position_ids" not in k], missing
    return model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=FIXTURES)
    args = parser.parse_args()
    generator = torch.Generator().manual_seed(2026)
    sd = random_state_dict(CONFIG, generator)
    lengths, s, pad = [12, 7], 12, CONFIG["pad_token_id"]
    input_ids = torch.full((2, s), pad, dtype=torch.long)
    for row, n in enumerate(lengths):
        input_ids[row, 0], input_ids[row, n - 1] = CONFIG["bos_token_id"], CONFIG["eos_token_id"]
        input_ids[row, 1:n - 1] = torch.randint(3, CONFIG["vocab_size"], (n - 2,), generator=generator)
    attention_mask = input_ids.ne(pad).long()
    with torch.no_grad():
        try:
            hidden, reference = transformers_reference(CONFIG, sd, input_ids, attention_mask), "transformers.RobertaModel"
        except ImportError:
            hidden, reference = torch_reference(CONFIG, sd, input_ids, attention_mask), "torch.nn.TransformerEncoderLayer"
    hidden = hidden * attention_mask.unsqueeze(-1)  # padded positions hold nothing meaningful in either reference
    folder = os.path.join(args.out, "roberta-tiny")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(CONFIG, f, indent=2)
    torch.save(sd, os.path.join(folder, "pytorch_model.bin"))
    torch.save({"input_ids": input_ids, "attention_mask": attention_mask, "last_hidden_state": hidden.contiguous()},
               os.path.join(args.out, "roberta-tiny-io.pt"))
    with open(os.path.join(args.out, "roberta-tiny-reference.txt"), "w") as f:
        f.write(reference + "\n")
    print(f"wrote {folder} and roberta-tiny-io.pt ({reference}), hidden {tuple(hidden.shape)}")


if __name__ == "__main__":
    main()
