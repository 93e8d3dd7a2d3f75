#!/usr/bin/env python3
"""Writes examples/notebooks/<method>.ipynb from the README blocks of examples/Tessera.Examples/<Method>Example.cs, so that
the notebooks' code is the code CI compiles and runs (tests/Tessera.Tests/Examples/ExamplesTests.cs checks they agree)."""
import json, pathlib, re, textwrap

here = pathlib.Path(__file__).resolve().parent
methods = {
    "spotscape": ("Spotscape", "Spotscape: spatial domains of one slice",
                  "A GCN auto-encoder trained with two augmented views (reconstruction + similarity telescope) embeds each spot; "
                  "k-means on the embedding gives the spatial domains. `tissue.h5ad` is the demo's simulated layered tissue "
                  "(`Tessera.Examples WORKDIR` writes it); use your own h5ad, 10x or Space Ranger output instead.",
                  ["Tessera.IO", "Tessera.Methods.Spotscape"], "data"),
    "costa": ("Costa", "CoSTA: gene pattern embeddings and spatially expressed genes",
              "Each gene becomes an image of its expression over the tissue; a ConvNet trained by self-labelling embeds the "
              "images, and an ensemble of models gives gene clusters and spatially expressed (stable) genes.",
              ["Tessera.IO", "Tessera.Methods.Costa"], "data.Var"),
    "stem": ("Stem", "STEM: single cells mapped onto spots",
             "A shared MLP embeds cells and spots so that spot similarities follow distance; cells are mapped to spots by "
             "the softmax of embedding products, giving predicted cell coordinates. `sc.h5ad`/`st.h5ad` are the tissue's "
             "spots taken as cells and summed into pseudo-spots.",
             ["Tessera.IO", "Tessera.Methods.Stem"], "data.Sc"),
    "stnet": ("StNet", "ST-Net: expression from H&E patches",
              "Patches of the H&E image under each spot go through an ImageNet ResNet-18 (frozen, the CPU path) and a ridge "
              "head predicts the spot's expression; each section is predicted by a model that never saw it. `her2st.csv` "
              "lists HER2ST sections (columns section, counts, spots, image).",
              ["Tessera.IO", "Tessera.Methods.StNet"], "sections[1].Counts"),
}

def block(cls):
    text = (here / "Tessera.Examples" / f"{cls}Example.cs").read_text()
    m = re.search(r"// README:begin\n(.*?)\n\s*// README:end", text, re.S)
    return textwrap.dedent(m.group(1))

def cell(kind, source):
    c = {"cell_type": kind, "metadata": {}, "source": source.splitlines(keepends=True)}
    if kind == "code":
        c.update(execution_count=None, outputs=[])
        c["metadata"] = {"dotnet_interactive": {"language": "csharp"}, "polyglot_notebook": {"kernelName": "csharp"}}
    return c

for name, (cls, title, text, usings, show) in methods.items():
    cells = [
        cell("markdown", f"# {title}\n\n{text}\n"),
        cell("code", '#r "nuget: Tessera, 0.1.0"\n#r "nuget: Tessera.Interactive, 0.1.0"\n#r "nuget: libtorch-cpu-linux-x64, 2.10.0"\n'),
        cell("code", "".join(f"using {u};\n" for u in usings)),
        cell("code", block(cls)),
        cell("markdown", "The results are stored in the data object; with Tessera.Interactive loaded it renders as a summary (and a spatial thumbnail):\n"),
        cell("code", show + "\n"),
    ]
    nb = {"cells": cells, "metadata": {
            "kernelspec": {"display_name": ".NET (C#)", "language": "C#", "name": ".net-csharp"},
            "language_info": {"name": "csharp"},
            "polyglot_notebook": {"kernelInfo": {"defaultKernelName": "csharp", "items": [{"name": "csharp"}]}}},
          "nbformat": 4, "nbformat_minor": 5}
    (here / "notebooks" / f"{name}.ipynb").write_text(json.dumps(nb, indent=1) + "\n")
    print("wrote", name)
