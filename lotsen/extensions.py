"""Flask extensions, created once here and bound to the app in ``create_app``."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from lotsen.db import Base

db = SQLAlchemy(model_class=Base)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()

# Rate limits for the public pages. In memory per worker unless RATELIMIT_STORAGE_URI
# (e.g. redis://127.0.0.1:6379) is set, which several workers or hosts then share.
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)
