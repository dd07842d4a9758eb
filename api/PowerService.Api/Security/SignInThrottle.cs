using System.Net;
using System.Threading.RateLimiting;
using PowerService.Grains.Accounts;
using PowerService.Runtime;

namespace PowerService.Api.Security;

/// <summary>What keeps password guessing from paying, whatever addresses it comes from, without handing anyone a way to
/// lock staff out. Per user name: at <see cref="AuthOptions.FailedSignInsPerUser"/> failures within
/// <see cref="AuthOptions.FailedSignInWindow"/> (counted from the name's first failure) the name's sign-ins pause until the
/// window ends, for a right password too and for a name no one has, so a pause tells nothing. A right password does not
/// clear the count: the failures may be someone else's, and the window ends them anyway.
/// <para>Except from an address the name signed in from before (within <see cref="AuthOptions.KnownAddressFor"/>): there
/// only that address's own failures count, to the same limit. Anyone could pause a dispatcher's sign-ins with ten wrong
/// passwords every five minutes, from anywhere; now the dispatcher's own workstation still signs in, and guessing from it
/// is paused as fast as before. A first sign-in from a new place waits for the name's window, as before. Known addresses
/// are kept per name (the latest few), so no other account's sign-ins push them out, in memory and in the user's
/// <see cref="ISignInPlacesGrain"/>: after a restart a paused user's places are read from there (the workstation was
/// unknown until it signed in again, which the attacker's failures kept it from doing).</para>
/// <para>Across the silo: at most <see cref="AuthOptions.ConcurrentPasswordChecks"/> password hashes are computed at once
/// (PBKDF2, ~27 ms of a core each), so guessing cannot take every core. Windows are kept on the silo's clock, as the API's
/// other "now"s.</para></summary>
public sealed class SignInThrottle(AuthOptions auth, Silo silo) : IDisposable
{
    private readonly Lock _lock = new();
    // In the order the windows began, so the ended ones are at the front and the oldest is evicted first.
    private readonly OrderedDictionary<string, Failures> _names = new(StringComparer.OrdinalIgnoreCase);
    private readonly OrderedDictionary<string, Failures> _fromAddress = new(StringComparer.OrdinalIgnoreCase);
    // The addresses each name signed in from (at most KnownAddressesPerName, the latest), names signed in longest ago
    // first. Kept per name: one table for all let a single account signing in from thousands of addresses push a
    // dispatcher's workstation out.
    private readonly OrderedDictionary<string, List<KnownAddress>> _known = new(StringComparer.OrdinalIgnoreCase);
    private const int KnownAddressesPerName = ISignInPlacesGrain.KeptPerName;

    // Names whose stored places were read (once per name, when first paused).
    private readonly HashSet<string> _placesRead = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrencyLimiter _checks = new(new ConcurrencyLimiterOptions
    {
        PermitLimit = auth.ConcurrentPasswordChecks,
        QueueLimit = auth.PasswordCheckQueue,
        QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
    });

    /// <summary>As <see cref="PausedFor(string, IPAddress?)"/>, and for a configured user (<paramref name="isUser"/>) whose
    /// sign-ins are paused, with the places they signed in from before this silo started (read once per name; only for
    /// users, so made-up names activate nothing).</summary>
    public async Task<TimeSpan?> PausedForAsync(string name, IPAddress? address, bool isUser)
    {
        var paused = PausedFor(name, address);
        if (paused is null || !isUser)
        {
            return paused;
        }
        lock (_lock)
        {
            if (!_placesRead.Add(name))
            {
                return paused;
            }
        }
        var stored = await silo.GetGrain<ISignInPlacesGrain>(PlacesKey(name)).Get();
        lock (_lock)
        {
            var places = _known.TryGetValue(name, out var known) ? known : [];
            foreach (var place in stored.Where(p => !places.Exists(k => k.Address == p.Address)))
            {
                places.Insert(0, new KnownAddress(place.Address, place.At));
            }
            while (places.Count > KnownAddressesPerName)
            {
                places.RemoveAt(0);
            }
            if (places.Count > 0)
            {
                _known[name] = places;
            }
        }
        return PausedFor(name, address);
    }

    /// <summary>How long until <paramref name="name"/> may sign in again from <paramref name="address"/>; null when it may
    /// now. Guesses that passed here before the limit was reached still run, so a name may see a few failures past it (at
    /// most the password checks running and queued).</summary>
    public TimeSpan? PausedFor(string name, IPAddress? address)
    {
        var now = silo.TimeProvider.GetUtcNow();
        var key = Key(name, address);
        var place = address?.ToString() ?? "unknown";
        lock (_lock)
        {
            if (PausedFor(_fromAddress, key, now) is { } fromHere)
            {
                return fromHere;
            }
            var known = _known.TryGetValue(name, out var places) && places.Exists(p => p.Address == place && now - p.At < auth.KnownAddressFor);
            return known ? null : PausedFor(_names, name, now);
        }
    }

    /// <summary>Counts a failed sign-in for <paramref name="name"/>, known or not, from <paramref name="address"/>. At most
    /// <see cref="AuthOptions.FailedSignInNames"/> windows of each kind are remembered: names made up by the thousand
    /// evict the oldest windows instead of growing memory, and each costs a password check (<see cref="PasswordCheckAsync"/>).</summary>
    public void Failed(string name, IPAddress? address)
    {
        var now = silo.TimeProvider.GetUtcNow();
        lock (_lock)
        {
            Count(_names, name, now);
            Count(_fromAddress, Key(name, address), now);
        }
    }

    /// <summary>The name signed in from the address: the address is known for it from now on (see the class).</summary>
    public void SignedIn(string name, IPAddress? address)
    {
        var now = silo.TimeProvider.GetUtcNow();
        var place = address?.ToString() ?? "unknown";
        lock (_lock)
        {
            if (!_known.Remove(name, out var places)) // back in at the end: the most recent last
            {
                places = [];
                while (_known.Count > 0 && (_known.Count >= auth.FailedSignInNames || now - _known.GetAt(0).Value[^1].At >= auth.KnownAddressFor))
                {
                    _known.RemoveAt(0);
                }
            }
            places.RemoveAll(p => p.Address == place);
            if (places.Count >= KnownAddressesPerName)
            {
                places.RemoveAt(0);
            }
            places.Add(new KnownAddress(place, now));
            _known.Add(name, places);
        }
        // Only a configured user signs in, so only they get a grain.
        silo.GetGrain<ISignInPlacesGrain>(PlacesKey(name)).Remember(place, now);
    }

    private static string PlacesKey(string name) => name.ToLowerInvariant();

    /// <summary>A turn to check a password: granted at once, or after the checks queued before it; refused (not
    /// acquired) when <see cref="AuthOptions.PasswordCheckQueue"/> sign-ins are already waiting.</summary>
    public ValueTask<RateLimitLease> PasswordCheckAsync(CancellationToken cancellationToken) => _checks.AcquireAsync(1, cancellationToken);

    public void Dispose() => _checks.Dispose();

    private static string Key(string name, IPAddress? address) => $"{name}\n{address?.ToString() ?? "unknown"}";

    private TimeSpan? PausedFor(OrderedDictionary<string, Failures> windows, string key, DateTimeOffset now) =>
        windows.TryGetValue(key, out var failures) && failures.Count >= auth.FailedSignInsPerUser && now < failures.Since + auth.FailedSignInWindow
            ? failures.Since + auth.FailedSignInWindow - now
            : null;

    private void Count(OrderedDictionary<string, Failures> windows, string key, DateTimeOffset now)
    {
        // RemoveAt(0) shifts the rest (linear in the windows kept): small beside the password check each failure cost.
        while (windows.Count > 0 && windows.GetAt(0).Value.Since + auth.FailedSignInWindow <= now)
        {
            windows.RemoveAt(0);
        }
        if (windows.TryGetValue(key, out var failures))
        {
            windows[key] = failures with { Count = failures.Count + 1 };
            return;
        }
        if (windows.Count >= auth.FailedSignInNames)
        {
            windows.RemoveAt(0);
        }
        windows.Add(key, new Failures(now, 1));
    }

    private readonly record struct Failures(DateTimeOffset Since, int Count);

    private readonly record struct KnownAddress(string Address, DateTimeOffset At);
}
