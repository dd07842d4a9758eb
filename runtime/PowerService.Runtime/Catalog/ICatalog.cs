using Microsoft.Extensions.Logging;
using PowerService.Runtime.Diagnostics;
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

    /// <summary>The entries of <paramref name="kind"/> under <paramref name="parentKey"/>, grouped by the value of
    /// their payloads' top-level text <paramref name="field"/>: how many and the least key of each group, null value
    /// first (see <see cref="IStorageProvider.GroupCatalogChildrenAsync"/>). For a parent that needs its children
    /// counted, not read. Calls from activations that start together share one round trip.</summary>
    Task<IReadOnlyList<CatalogChildGroup>> GroupChildrenAsync(string kind, string parentKey, string field);

    /// <summary>How many entries of <paramref name="kind"/> are stored.</summary>
    Task<long> CountAsync(string kind);
}

/// <summary>A catalog read waiting in the group read.</summary>
internal readonly record struct CatalogKey(string Kind, string Key);

/// <summary>A grouping of one parent's children waiting in the group read.</summary>
internal readonly record struct CatalogChildQuery(string Kind, string ParentKey, string Field);

/// <summary>The catalog over the store. Entry reads and child groupings queue for a group read each, so that a storm's
/// activations (meters, then their areas) cost a store round trip per batch, not per grain.</summary>
internal sealed class StorageCatalog : ICatalog
{
    private readonly IStorageProvider _storage;
    private readonly GroupCommitQueue<CatalogKey, CatalogEntry?> _reads;
    private readonly GroupCommitQueue<CatalogChildQuery, IReadOnlyList<CatalogChildGroup>> _groupings;

    public StorageCatalog(IStorageProvider storage, int maxBatch, int readers, StorageRetryPolicy retry, RuntimeMetrics metrics, ILogger logger)
    {
        _storage = storage;
        _reads = new GroupCommitQueue<CatalogKey, CatalogEntry?>(
            "catalog", (batch, ct) => ReadBatchAsync(storage, batch, ct), maxBatch, readers, retry, metrics, logger);
        _groupings = new GroupCommitQueue<CatalogChildQuery, IReadOnlyList<CatalogChildGroup>>(
            "catalog groups", (batch, ct) => GroupBatchAsync(storage, batch, ct), maxBatch, readers, retry, metrics, logger);
    }

    public Task<CatalogEntry?> ReadAsync(string kind, string key) => _reads.Enqueue(new CatalogKey(kind, key));

    public Task<IReadOnlyList<CatalogEntry>> ReadChildrenAsync(string kind, IReadOnlyList<string> parentKeys) =>
        _storage.ReadCatalogChildrenAsync(kind, parentKeys);

    public Task<IReadOnlyList<CatalogChildGroup>> GroupChildrenAsync(string kind, string parentKey, string field)
    {
        // Checked before queueing (the store checks again): a bad field fails its own caller, not a shared batch.
        StoredRows.ThrowIfNotFieldName(field);
        return _groupings.Enqueue(new CatalogChildQuery(kind, parentKey, field));
    }

    public Task<long> CountAsync(string kind) => _storage.CountCatalogAsync(kind);

    /// <summary>Stops taking reads and waits for those queued.</summary>
    public async Task DrainAsync()
    {
        await _reads.DrainAsync();
        await _groupings.DrainAsync();
    }

    /// <summary>One group-read batch: one store read per kind in it (a storm activates meters, then their areas).</summary>
    private static async Task<IReadOnlyList<CatalogEntry?>> ReadBatchAsync(
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

    /// <summary>One batch of child groupings: one store read per kind and field in it, its groups handed to each
    /// parent asked for (a parent asked twice in one batch gets the same list).</summary>
    private static async Task<IReadOnlyList<IReadOnlyList<CatalogChildGroup>>> GroupBatchAsync(
        IStorageProvider storage, IReadOnlyList<CatalogChildQuery> batch, CancellationToken cancellationToken)
    {
        var results = new IReadOnlyList<CatalogChildGroup>[batch.Count];
        foreach (var (kind, field) in batch.Select(q => (q.Kind, q.Field)).Distinct())
        {
            var parents = batch.Where(q => q.Kind == kind && q.Field == field).Select(q => q.ParentKey).Distinct(StringComparer.Ordinal).ToList();
            var groups = await storage.GroupCatalogChildrenAsync(kind, parents, field, cancellationToken).ConfigureAwait(false);
            var byParent = new Dictionary<string, List<CatalogChildGroup>>(parents.Count, StringComparer.Ordinal);
            foreach (var group in groups)
            {
                if (!byParent.TryGetValue(group.ParentKey, out var list))
                {
                    byParent[group.ParentKey] = list = new List<CatalogChildGroup>(2);
                }
                list.Add(group);
            }
            for (var i = 0; i < batch.Count; i++)
            {
                if (batch[i].Kind == kind && batch[i].Field == field)
                {
                    results[i] = byParent.TryGetValue(batch[i].ParentKey, out var list) ? list : [];
                }
            }
        }
        return results;
    }
}
