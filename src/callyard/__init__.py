"""callyard: a self-hosted twin of the Mitel CloudLink platform, a UC API and a CX contact-center API."""

__version__ = "0.1.0"
