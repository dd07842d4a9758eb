-- Reference data (grid topology and the like), imported in bulk and read by grains on activation. Generic: the
-- runtime knows no domain, so a kind names what an entry is and the payload is the domain's JSON, kept as text.
CREATE TABLE catalog (
    kind        text        NOT NULL,
    key         text        NOT NULL,
    parent_key  text,
    payload     text        NOT NULL,
    modified_at timestamptz NOT NULL,
    PRIMARY KEY (kind, key)
);

-- Children of a parent (the meters of a transformer area) and the parent check of an import.
CREATE INDEX catalog_parent ON catalog (kind, parent_key);
