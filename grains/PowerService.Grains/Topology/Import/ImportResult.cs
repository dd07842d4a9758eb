namespace PowerService.Grains.Topology.Import;

/// <summary>What a CSV file holds. Imported in this order, parents first: feeders and grids, then transformer areas
/// (on a feeder, in a grid), meters (on an area), customers (on a meter); crews stand alone.</summary>
public enum ImportKind
{
    Feeders,
    Grids,
    TransformerAreas,
    Meters,
    Customers,
    Crews,
}

public static class ImportKinds
{
    private static readonly Dictionary<string, ImportKind> ByName = new(StringComparer.OrdinalIgnoreCase)
    {
        ["feeders"] = ImportKind.Feeders,
        ["grids"] = ImportKind.Grids,
        ["transformer-areas"] = ImportKind.TransformerAreas,
        ["meters"] = ImportKind.Meters,
        ["customers"] = ImportKind.Customers,
        ["crews"] = ImportKind.Crews,
    };

    /// <summary>The name in URLs and file names: <c>transformer-areas</c>, <c>customers</c>…</summary>
    public static string Name(this ImportKind kind) => ByName.First(pair => pair.Value == kind).Key;

    /// <summary>The kind named <paramref name="name"/> (as in <c>POST /api/import/{name}</c>), or false.</summary>
    public static bool TryParse(string name, out ImportKind kind) => ByName.TryGetValue(name, out kind);

    public static IReadOnlyCollection<string> Names => ByName.Keys;
}

/// <summary>The outcome of one file. Succeeded: rows were inserted, updated or found unchanged, and <see cref="Notes"/>
/// says what changed elsewhere in consequence (a feeder's areas moved with it to its region). Otherwise nothing at
/// all was imported and <see cref="Errors"/> says why (the first <see cref="TopologyImport.MaxReportedErrors"/>,
/// in line order; <see cref="ErrorCount"/> counts them all).</summary>
public sealed record ImportResult(
    ImportKind Kind,
    bool Succeeded,
    long Rows,
    long Inserted,
    long Updated,
    long Unchanged,
    int ErrorCount,
    IReadOnlyList<ImportError> Errors,
    IReadOnlyList<string> Notes);

/// <summary>One problem: the file line it is on (1 = the header), the column (null when it concerns the whole row or
/// file) and what is wrong.</summary>
public sealed record ImportError(int Line, string? Column, string Message);

/// <summary>Rows read so far, reported while an import runs so a page can show it.</summary>
public sealed record ImportProgress(ImportKind Kind, long RowsRead, bool Completed);
