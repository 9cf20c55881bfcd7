"""GAN Playground: the entry point. Declares the pages, the language switcher and the device badge."""
import streamlit as st

from ui.i18n import languages, pick_language, t
from ui.layout import apply_direction, device_badge

st.set_page_config(page_title="GAN Playground", page_icon="🎨", layout="wide")

langs = languages()
if "lang" not in st.session_state:  # once per session: a shared link (?lang=he), else the browser's language
    st.session_state["lang"] = pick_language(st.query_params.get("lang"), st.context.locale)
st.sidebar.selectbox("🌐 " + t("app.language"), list(langs), format_func=langs.get, key="lang")

# Each file is named after its url path (2_train.py -> /train): Streamlit resolves the very first
# request to a fresh server against the pages/ file names, before st.navigation has run.
pages = [
    st.Page("pages/1_architectures.py", title=t("nav.architectures"), icon="🧩", url_path="architectures", default=True),
    st.Page("pages/2_train.py", title=t("nav.train"), icon="🏋️", url_path="train"),
    st.Page("pages/3_latent.py", title=t("nav.latent"), icon="🧭", url_path="latent"),
    st.Page("pages/4_style.py", title=t("nav.style"), icon="🖌️", url_path="style"),
]
page = st.navigation(pages)
apply_direction()
device_badge()
page.run()
