"""Hard FITB accuracy on the "second bold pattern" questions vs the rest (docs/results.md, Stylist).

A question is in the subset when the outfit already has a bold-patterned garment, the right
answer is not bold, and some distractor is. Ground truth comes from the generator's
synth.json. Usage: python3 stylist_bold.py DATA PER_QUESTION.json... (files from
`capsule-host eval stylist --per-question`).
"""
import json, sys
data, *runs = sys.argv[1:]
synth = json.load(open(f"{data}/synth.json"))
bold = set(synth["style_rules"]["patterns"]["bold"])
pattern = {g["polyvore_item_id"]: g["spec"]["pattern"] for g in synth["garments"]}
item = {}
for split in ["train", "valid", "test"]:
    for o in json.load(open(f"{data}/polyvore/nondisjoint/{split}.json")):
        for it in o["items"]:
            item[f"{o['set_id']}_{it['index']}"] = it["item_id"]
is_bold = lambda i: pattern[item[i]] in bold
subset = []
for q in json.load(open(f"{data}/polyvore/nondisjoint/fill_in_blank_test_hard.json")):
    outfit = q["question"][0].split("_")[0]
    answer = [c for c in q["answers"] if c.split("_")[0] == outfit]
    assert len(answer) == 1
    others = [c for c in q["answers"] if c != answer[0]]
    subset.append(any(map(is_bold, q["question"])) and not is_bold(answer[0])
                  and any(map(is_bold, others)))
for run in runs:
    right = json.load(open(run))["fitb_hard"]
    on = [r for r, s in zip(right, subset) if s]
    off = [r for r, s in zip(right, subset) if not s]
    print(f"{run}: second-bold subset {sum(on) / len(on):.3f} (n={len(on)}), "
          f"rest {sum(off) / len(off):.3f} (n={len(off)})")
