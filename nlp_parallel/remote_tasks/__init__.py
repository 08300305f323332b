"""Task modules that run inside execnet workers.

Each module is shipped to workers as source and must stay self-contained: it may
import only the standard library and NLTK, never ``nlp_parallel`` -- although it is
installed inside the package, a worker has none of it -- and it must not need NLTK
data on the worker: everything it needs arrives in ``setup(options)``.
``setup`` returns the function applied to each item.

Items and results (JSON data):

=========  ==========================================  ==================================
module     item                                        result
=========  ==========================================  ==================================
tag        tokens                                      tags
chunk      [[word, tag], ...]                          {"iob": [...], "tree": [label, ...]}
stem       a word, or a list of tokens                 its stem, or the list of stems
tokenize   a text                                      sentences, each a list of tokens
lemmatize  tokens, or [[word, tag], ...]               lemmas
pipeline   a text, or tokens                           sentence records with the fields
                                                       each step adds
=========  ==========================================  ==================================
"""
