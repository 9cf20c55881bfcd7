"""The training page's settings: widgets in the sidebar -> one TrainConfig, plus config upload.

Widget values live under "train.w.<field>" keys. Streamlit forgets a widget's state when its page
is not shown, so the values are re-seeded from the session's last config on every run: switching
pages and back leaves every setting (and the run) as it was.
"""
from dataclasses import replace

import streamlit as st

from gan_core import registry
from gan_core.config import BOUNDS, ConfigError, TrainConfig

from . import charts
from .i18n import isolate, msg, t
from .train_session import LIVE_FIELDS, TrainSession

WIDGET_FIELDS = ("model", "lr_g", "lr_d", "batch_size", "z_dim", "width", "n_critic", "dropout", "seed",
                 "balance", "d_acc_max", "g_success_max", "g_class_weight", "r1")
MESSAGE_KEY = "train.upload_message"


def _key(name: str) -> str:
    return f"train.w.{name}"


def rate_text(rate: float) -> str:
    """A learning rate as the papers write it: 4e-3, 2.5e-4."""
    mantissa, exponent = f"{rate:.1e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


def wgan_note_values() -> dict:
    """What the WGANs' note quotes from their presets (rates, widths, the penalty's weight and schedule, the critic's
    dense layer, the clipping bound), as it writes them."""
    gp, clip = registry.get("wgan-gp").preset, registry.get("wgan").preset
    return dict(gp_lr_g=rate_text(gp["lr_g"]), gp_lr_d=rate_text(gp["lr_d"]), clip_lr_g=rate_text(clip["lr_g"]),
                clip_lr_d=rate_text(clip["lr_d"]), gp_width=gp["width"], clip_width=clip["width"],
                gp_weight=f"{gp['gp_weight']:g}", gp_every=gp["gp_every"], gp_d_hidden=gp["d_hidden"],
                clip=f"{clip['clip']:g}")


def wgan_preset_note() -> str:
    """The WGANs' note beside n_critic, read from the registry (a retuned preset updates it)."""
    return t("train.wgan_preset_note", **wgan_note_values())


def field_label(name: str) -> str:
    """A TrainConfig field as the user knows it: its widget's label, else the field's name."""
    label = t(f"train.{name}")
    return name if label == f"train.{name}" else label


def _seed_widgets(cfg: TrainConfig, force: bool = False) -> None:
    for name in WIDGET_FIELDS:
        if force or _key(name) not in st.session_state:
            st.session_state[_key(name)] = getattr(cfg, name)


def _on_model_change(sess: TrainSession) -> None:
    """A new model brings its own preset (learning rates, batch...), keeping the seed and balance rule."""
    model = st.session_state[_key("model")]
    current = _widget_config(sess.template)
    sess.template = TrainConfig.preset(model, **{k: getattr(current, k) for k in ("seed", "balance", "d_acc_max",
                                                                                 "g_success_max")})
    _seed_widgets(sess.template, force=True)


def _on_upload(sess: TrainSession) -> None:
    f = st.session_state.get("train.upload")
    if f is None:
        return
    try:  # the same checks as the CLI's flags: config.BOUNDS, through TrainConfig
        cfg = TrainConfig.from_json(f.getvalue())
        if cfg.model not in sess.models:
            raise ConfigError("config.not_here", model=cfg.model, data=sess.data_name, models=", ".join(sess.models))
    except ConfigError as e:
        st.session_state[MESSAGE_KEY] = ("error", t("train.upload_bad", name=isolate(f.name), reason=msg(e)))
        return
    sess.template = cfg
    _seed_widgets(cfg, force=True)
    st.session_state[MESSAGE_KEY] = ("success", t("train.upload_ok", name=isolate(f.name)))


def _widget_config(base: TrainConfig) -> TrainConfig:
    vals = {name: st.session_state[_key(name)] for name in WIDGET_FIELDS if _key(name) in st.session_state}
    if vals.get("model", base.model) != base.model:  # defensive: never mix one model's preset into another
        base = TrainConfig.preset(vals["model"])
    return replace(base, **vals)


def settings_panel(sess: TrainSession) -> TrainConfig:
    """Draw the sidebar settings; return the config they describe."""
    _seed_widgets(sess.cfg)
    sb = st.sidebar
    sb.subheader(t("train.settings"))
    models = sess.models  # those that train on the data picked (ui.train_data), at its size
    if st.session_state[_key("model")] not in models:  # other data: its first model, with that model's preset
        st.session_state[_key("model")] = models[0]
        _on_model_change(sess)
    names = {m: t(registry.get(m).locale_key) for m in models}  # translated now, in this run's language
    sb.selectbox(t("train.model"), models, key=_key("model"), format_func=names.get,
                 on_change=_on_model_change, args=(sess,))
    c1, c2 = sb.columns(2)
    def num(col, name, step, label=None, most=None, **kw):
        lo, hi = BOUNDS[name]
        col.number_input(label or t(f"train.{name}"), min_value=lo, max_value=most or hi, step=step, key=_key(name), **kw)

    spec = registry.get(st.session_state[_key("model")])  # the model picked above, in this run
    vae = not spec.adversarial  # a decoder and an encoder, no D
    num(c1, "lr_g", 1e-5, t("train.lr_decoder") if vae else None, format="%.1e")
    num(c2, "lr_d", 1e-5, t("train.lr_encoder") if vae else None, format="%.1e")
    num(c1, "batch_size", 16, most=BOUNDS["batch_size"][1] // sess.template.lr_cut_batch)  # grown at the cut: in bounds
    is_wgan = spec.wgan
    num(c2, "n_critic", 1, disabled=not is_wgan, help=t("train.n_critic_help"))
    if is_wgan:  # the presets are not the papers' recipes: say so where n_critic shows 1
        sb.caption(wgan_preset_note())
    if sess.template.equalized_lr != "none":  # a rate higher than the other models': say why, beside it
        sb.caption(t("train.equalized_lr_note"))
    if sess.template.lr_cut_at:  # the rates shown are not the ones a long run ends on: say when they change
        cuts, grow = sess.template.rate_cuts, sess.template.lr_cut_batch
        note = t(charts.rate_cut_key("train.lr_cut_note", cuts), at=f"{sess.template.lr_cut_at:,}",
                 cut=f"{cuts[0]:g}", cut_d=f"{cuts[1]:g}")
        if grow > 1:  # the batch shown is not the one a long run ends on either
            grown = grow * st.session_state[_key("batch_size")]
            note += " " + t("train.lr_cut_batch_note", factor=grow, batch=f"{grown:,}")
        sb.caption(note)
    num(c1, "z_dim", 8)
    num(c2, "width", 8, help=t("train.width_help"))
    num(c1, "seed", 1)
    if spec.conditional:  # AC-GAN: fidelity against variety, to try
        num(c2, "g_class_weight", 0.1, format="%.2f", help=t("train.g_class_weight_help"))
    if spec.takes_r1:
        num(c1, "r1", 0.5, format="%.1f", help=t("train.r1_help", every=sess.template.r1_every))
    c2.slider(t("train.dropout"), *BOUNDS["dropout"], step=0.05, key=_key("dropout"), help=t("train.dropout_help"),
              disabled=vae)
    sb.toggle(t("train.balance"), key=_key("balance"), help=t("train.not_gan_help" if vae else "train.balance_help"),
              disabled=vae)
    if st.session_state[_key("balance")] and not vae:
        for name in ("d_acc_max", "g_success_max"):
            sb.slider(t(f"train.{name}"), *BOUNDS[name], step=0.01, key=_key(name))
    sb.caption(t("train.live_note", live=", ".join(map(field_label, LIVE_FIELDS))))
    with sb.expander(t("train.upload_title")):
        st.file_uploader(t("train.upload"), type=["json"], key="train.upload", on_change=_on_upload, args=(sess,))
        msg = st.session_state.get(MESSAGE_KEY)
        if msg:
            getattr(st, msg[0])(msg[1])
    return _widget_config(sess.template)
