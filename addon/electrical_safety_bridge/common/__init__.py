"""The wire contract between the bridge and its clients: schema version, enums, models and
errors. Standard library only, so that Home Assistant can require it without the bridge's
dependencies; the bridge builds its answers from these models and clients parse them back.
"""
