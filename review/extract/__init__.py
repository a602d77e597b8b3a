"""From C to rules: parsing, pre/post images, path conditions, expressions, vocabulary, bindings."""
