using System.Threading.RateLimiting;
using PowerService.Runtime;

namespace PowerService.Api.Security;

/// <summary>What keeps password guessing from paying, whatever addresses it comes from. Per user name: at
/// <see cref="AuthOptions.FailedSignInsPerUser"/> failures within <see cref="AuthOptions.FailedSignInWindow"/> (counted
/// from the name's first failure) the name's sign-ins pause until the window ends, for a right password too and for a
/// name no one has, so a pause tells nothing. A right password does not clear the count: the failures may be someone
/// else's, and the window ends them anyway. Across the silo: at most <see cref="AuthOptions.ConcurrentPasswordChecks"/>
/// password hashes are computed at once (PBKDF2, ~27 ms of a core each), so guessing cannot take every core. Windows are kept on the silo's clock, as the API's other "now"s.</summary>
public sealed class SignInThrottle(AuthOptions auth, Silo silo) : IDisposable
{
    private readonly Lock _lock = new();
    // In the order the names' windows began, so the ended ones are at the front and the oldest is evicted first.
    private readonly OrderedDictionary<string, Failures> _names = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrencyLimiter _checks = new(new ConcurrencyLimiterOptions
    {
        PermitLimit = auth.ConcurrentPasswordChecks,
        QueueLimit = auth.PasswordCheckQueue,
        QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
    });

    /// <summary>How long until <paramref name="name"/> may sign in again; null when it may now. Guesses that passed
    /// here before the limit was reached still run, so a name may see a few failures past it (at most the password
    /// checks running and queued).</summary>
    public TimeSpan? PausedFor(string name)
    {
        var now = silo.TimeProvider.GetUtcNow();
        lock (_lock)
        {
            return _names.TryGetValue(name, out var failures) && failures.Count >= auth.FailedSignInsPerUser && now < failures.Since + auth.FailedSignInWindow
                ? failures.Since + auth.FailedSignInWindow - now
                : null;
        }
    }

    /// <summary>Counts a failed sign-in for <paramref name="name"/>, known or not. At most
    /// <see cref="AuthOptions.FailedSignInNames"/> names are remembered: names made up by the thousand evict the oldest
    /// windows instead of growing memory, and each costs a password check (<see cref="PasswordCheckAsync"/>).</summary>
    public void Failed(string name)
    {
        var now = silo.TimeProvider.GetUtcNow();
        lock (_lock)
        {
            // RemoveAt(0) shifts the rest (linear in the names kept): small beside the password check each failure cost.
            while (_names.Count > 0 && _names.GetAt(0).Value.Since + auth.FailedSignInWindow <= now)
            {
                _names.RemoveAt(0);
            }
            if (_names.TryGetValue(name, out var failures))
            {
                _names[name] = failures with { Count = failures.Count + 1 };
                return;
            }
            if (_names.Count >= auth.FailedSignInNames)
            {
                _names.RemoveAt(0);
            }
            _names.Add(name, new Failures(now, 1));
        }
    }

    /// <summary>A turn to check a password: granted at once, or after the checks queued before it; refused (not
    /// acquired) when <see cref="AuthOptions.PasswordCheckQueue"/> sign-ins are already waiting.</summary>
    public ValueTask<RateLimitLease> PasswordCheckAsync(CancellationToken cancellationToken) => _checks.AcquireAsync(1, cancellationToken);

    public void Dispose() => _checks.Dispose();

    private readonly record struct Failures(DateTimeOffset Since, int Count);
}
