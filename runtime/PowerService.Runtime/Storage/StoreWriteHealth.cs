namespace PowerService.Runtime.Storage;

/// <summary>The outcome of the store's last state writes: failing from a failure until a write succeeds again, or
/// until <see cref="Forgotten"/> passes without another failure (a silo taken out of rotation writes little; its next
/// write tells again). Written by the writer loops on every batch (a field read when nothing changes), read by
/// readiness.</summary>
public sealed class StoreWriteHealth(TimeProvider time)
{
    public static readonly TimeSpan Forgotten = TimeSpan.FromSeconds(30);

    private readonly Lock _lock = new();
    private string? _error;
    private DateTimeOffset _failingSince;
    private DateTimeOffset _lastFailure;

    /// <summary>When writes began to fail and the last failure's message, or null while they succeed.</summary>
    public (DateTimeOffset Since, string Error)? Failing
    {
        get
        {
            lock (_lock)
            {
                return _error is not null && time.GetUtcNow() - _lastFailure < Forgotten ? (_failingSince, _error) : null;
            }
        }
    }

    internal void Succeeded()
    {
        if (Volatile.Read(ref _error) is null)
        {
            return;
        }
        lock (_lock)
        {
            _error = null;
        }
    }

    internal void Failed(string error)
    {
        lock (_lock)
        {
            var now = time.GetUtcNow();
            if (_error is null || now - _lastFailure >= Forgotten)
            {
                _failingSince = now;
            }
            _error = error;
            _lastFailure = now;
        }
    }
}
