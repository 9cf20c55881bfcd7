"""gan_core: small, pure-PyTorch GANs for teaching (MNIST, faces, style transfer).

No Streamlit in here: the app's pages and the CLI both call these modules.
"""
__version__ = "0.1.0"
