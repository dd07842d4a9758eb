using PowerService.Runtime.Storage;

namespace PowerService.Runtime;

/// <summary>Reads reference data (the catalog: grid topology and the like). A grain takes it as a constructor
/// parameter and reads what it describes on activation. Imports write the catalog in bulk through
/// <see cref="IStorageProvider.ImportCatalogAsync"/>; <see cref="Silo.InvalidateActivations(IEnumerable{GrainId})"/>
/// then makes the grains that loaded changed entries read them afresh.</summary>
public interface ICatalog
{
    /// <summary>The entry of <paramref name="kind"/> with <paramref name="key"/>, or null. Reads from activations that
    /// start together share one round trip.</summary>
    Task<CatalogEntry?> ReadAsync(string kind, string key);

    /// <summary>The entries of <paramref name="kind"/> whose parent is one of <paramref name="parentKeys"/>, ordered by
    /// parent key, then key.</summary>
    Task<IReadOnlyList<CatalogEntry>> ReadChildrenAsync(string kind, IReadOnlyList<string> parentKeys);

    /// <summary>How many entries of <paramref name="kind"/> are stored.</summary>
    Task<long> CountAsync(string kind);
}

/// <summary>A catalog read waiting in the group read.</summary>
internal readonly record struct CatalogKey(string Kind, string Key);

internal sealed class StorageCatalog(IStorageProvider storage, GroupCommitQueue<CatalogKey, CatalogEntry?> reads) : ICatalog
{
    public Task<CatalogEntry?> ReadAsync(string kind, string key) => reads.Enqueue(new CatalogKey(kind, key));

    public Task<IReadOnlyList<CatalogEntry>> ReadChildrenAsync(string kind, IReadOnlyList<string> parentKeys) =>
        storage.ReadCatalogChildrenAsync(kind, parentKeys);

    public Task<long> CountAsync(string kind) => storage.CountCatalogAsync(kind);

    /// <summary>One group-read batch: one store read per kind in it (a storm activates meters, then their areas).</summary>
    public static async Task<IReadOnlyList<CatalogEntry?>> ReadBatchAsync(
        IStorageProvider storage, IReadOnlyList<CatalogKey> batch, CancellationToken cancellationToken)
    {
        var entries = new CatalogEntry?[batch.Count];
        foreach (var kind in batch.Select(k => k.Kind).Distinct(StringComparer.Ordinal))
        {
            var positions = new List<int>();
            var keys = new List<string>();
            for (var i = 0; i < batch.Count; i++)
            {
                if (string.Equals(batch[i].Kind, kind, StringComparison.Ordinal))
                {
                    positions.Add(i);
                    keys.Add(batch[i].Key);
                }
            }
            var read = await storage.ReadCatalogAsync(kind, keys, cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < positions.Count; i++)
            {
                entries[positions[i]] = read[i];
            }
        }
        return entries;
    }
}
