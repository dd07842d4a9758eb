namespace PowerService.Runtime;

/// <summary>Marks an exception a grain throws to refuse the caller's request (invalid input, an unknown entity, a
/// conflict with its state) rather than to report a fault. The runtime counts such calls as refused, apart from failed
/// ones, so an operator's error rate shows faults and not, say, dispatchers tapping an illegal transition.</summary>
public interface IRefusal
{
}

/// <summary>No grain class is registered for a grain interface, or the interface has no generated reference.</summary>
public sealed class GrainTypeNotFoundException(string message) : Exception(message);

/// <summary>A call did not complete within its timeout. The grain may still finish the work.</summary>
public sealed class GrainCallTimeoutException(string message) : TimeoutException(message);

/// <summary>A non-reentrant grain was called through a cycle of calls that would wait on itself forever.</summary>
public sealed class GrainCallCycleException(string message) : InvalidOperationException(message);

/// <summary>A state write carried a stale etag: someone else wrote first. Nothing was written.</summary>
public sealed class InconsistentStateException(string message, string? storedEtag, string? currentEtag)
    : InvalidOperationException(message)
{
    public string? StoredEtag { get; } = storedEtag;
    public string? CurrentEtag { get; } = currentEtag;
}

/// <summary>Grain state could not be turned into bytes (or back). Nothing was written.</summary>
public sealed class StateSerializationException(string message, Exception inner) : Exception(message, inner);

/// <summary>The store could not be reached after the configured retries. Nothing of the batch was written.</summary>
public sealed class StorageUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The silo is shutting down and takes no new calls.</summary>
public sealed class SiloUnavailableException(string message) : InvalidOperationException(message);
