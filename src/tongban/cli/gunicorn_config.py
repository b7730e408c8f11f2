"""gunicorn settings that its command line cannot give (loaded with --config python:…).

gunicorn writes `Server: gunicorn` on every response and has no option to change it; naming the
server software helps only an attacker matching it against known flaws (issue 9, defect 10). Its
responses say `Server: tongban`, as waitress's do. Set here, in the master before it forks, so
every worker inherits it.
"""

import gunicorn.http.wsgi

gunicorn.http.wsgi.SERVER = "tongban"
