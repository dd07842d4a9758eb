using PowerService.Runtime.Storage;

namespace PowerService.Runtime;

/// <summary>Reads the domain event journal. A grain takes it as a constructor parameter; events are written with
/// <see cref="IPersistentState{TState}.WriteStateAsync(IReadOnlyList{JournalEvent})"/>, together with the state.</summary>
public interface IJournal
{
    /// <summary>Events of one stream after <paramref name="afterSequence"/>, oldest first, at most <paramref name="maxCount"/>.</summary>
    Task<IReadOnlyList<StoredEvent>> ReadStreamAsync(string streamId, long afterSequence, int maxCount);
}

internal sealed class StorageJournal(IStorageProvider storage) : IJournal
{
    public Task<IReadOnlyList<StoredEvent>> ReadStreamAsync(string streamId, long afterSequence, int maxCount) =>
        storage.ReadStreamAsync(streamId, afterSequence, maxCount);
}
