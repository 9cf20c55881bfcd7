"""GAN Playground: the entry point. Declares the pages, the language switcher and the device badge."""
import streamlit as st

from ui.i18n import languages, pick_language, t
from ui.layout import apply_direction, device_badge, device_badge_after_page

st.set_page_config(page_title="GAN Playground", page_icon="🎨", layout="wide")

langs = languages()
if "lang" not in st.session_state:  # once per session: a shared link (?lang=he), else the browser's language
    st.session_state["lang"] = pick_language(st.query_params.get("lang"), st.context.locale)
st.sidebar.selectbox("🌐 " + t("app.language"), list(langs), format_func=langs.get, key="lang")

# The page files live in views/, not pages/: a folder called pages/ switches on Streamlit's older
# multipage discovery, which answers a deep link opened first on a fresh server without app.py.
pages = [
    st.Page("views/1_architectures.py", title=t("nav.architectures"), icon="🧩", url_path="architectures", default=True),
    st.Page("views/2_train.py", title=t("nav.train"), icon="🏋️", url_path="train"),
    st.Page("views/3_latent.py", title=t("nav.latent"), icon="🧭", url_path="latent"),
    st.Page("views/4_style.py", title=t("nav.style"), icon="🖌️", url_path="style"),
]
page = st.navigation(pages)
apply_direction()
badge = st.sidebar.empty()
shown = device_badge(badge)  # before the page once torch has loaded (a page may st.stop())
page.run()
if not shown:  # the first run: torch loads after the page, which may need none, while its reader reads
    device_badge_after_page(badge)
