"""The offline demo news network: fictional outlets and articles, served over real HTTP by `chipwatch mirror`.

Everything in it is fiction written for chipwatch's demo and tests; manifest.toml holds the truth about
every article (relevant, topics, story, duplicate_of, language, published date).
"""
