"""`quanted report --format html`: one self-contained page of plots and tables.

    data = sources.gather(path)          # what the page shows, read from .quanted/ (no engine)
    html = page.render(data)             # the page; needs Bokeh (`pip install 'quanted[html]'`)
"""
