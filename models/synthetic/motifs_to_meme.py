#!/usr/bin/env python3
"""Writes models/synthetic/motifs.meme: the planted motifs of motifs.json in MEME's text format
(as JASPAR ships them), for `seqattr seqlets --motifs`.

    python3 models/synthetic/motifs_to_meme.py [--motifs motifs.json] [--out motifs.meme]
"""
import argparse
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--motifs", default=os.path.join(HERE, "motifs.json"))
    parser.add_argument("--out", default=os.path.join(HERE, "motifs.meme"))
    args = parser.parse_args()
    with open(args.motifs) as f:
        motifs = json.load(f)["motifs"]
    lines = ["MEME version 4", "", "ALPHABET= ACGT", "", "strands: + -", "",
             "Background letter frequencies", "A 0.25 C 0.25 G 0.25 T 0.25", ""]
    for name, motif in motifs.items():
        pfm = motif["pfm"]
        lines += [f"MOTIF {name} {motif.get('tf', name)}", "",
                  f"letter-probability matrix: alength= 4 w= {len(pfm)} nsites= 20 E= 0"]
        for row in pfm:
            total = sum(row)
            lines.append("  " + "  ".join(f"{v / total:.6f}" for v in row))
        lines.append("")
    with open(args.out, "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
