using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace PowerService.Grains.Outages;

/// <summary>Per meter: the newest event applied (unix ms and id hash: an older or identical event is absorbed) and
/// since when it is dark (0: it has power). 24 bytes a meter heard from; stored as <c>[lastAt, lastEvent, darkSince]</c>.</summary>
[JsonConverter(typeof(MeterPowerJson))]
internal readonly record struct MeterPower(long LastAt, ulong LastEvent, long DarkSince);

/// <summary>The meter flags of one area (a state of its own, written behind, apart from the area's record). Stored as
/// <c>{"ByMeterHash": {"&lt;hash of the meter id&gt;": [lastAt, lastEvent, darkSince], …}}</c>; flags stored before
/// they were keyed by hash (<c>"Meters"</c>, keyed by meter id) are read and moved on activation.</summary>
internal sealed class AreaMeterFlags
{
    [JsonPropertyName("ByMeterHash")]
    public MeterFlagTable Meters { get; set; } = new();

    /// <summary>Flags stored keyed by meter id (before <see cref="MeterFlagTable"/>); moved into <see cref="Meters"/> on
    /// activation, never written.</summary>
    [JsonPropertyName("Meters")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Dictionary<string, MeterPower>? ByIdStoredBefore { get; set; }

    [JsonIgnore]
    public int DarkCount
    {
        get
        {
            var dark = 0;
            foreach (var meter in Meters)
            {
                dark += meter.Flags.DarkSince != 0 ? 1 : 0;
            }
            return dark;
        }
    }
}

/// <summary>One area's meter flags keyed by the 64-bit hash of the meter id (the meter directory's key): an open-
/// addressing table of plain structs, in an array on the pinned object heap.
/// Why so: in a storm every area activates within a second or two and its flags live as long as the area does. As a
/// dictionary keyed by the events' meter-id strings they were the largest thing each gen0 collection of the burst had to
/// copy (20,000 areas × 2.4 KB, copied once to gen1 and again to gen2, ~100 ms of pause each time on two cores) and
/// they kept every meter-id string a head-end's JSON batch brought in alive. Here they hold no reference and are never
/// copied by the collector: the pinned heap is collected with gen2 only. A collision of two meters' hashes inside one
/// area (~50 meters, 64 bits) is not guarded against; they would share flags.</summary>
[JsonConverter(typeof(MeterFlagTableJson))]
internal sealed class MeterFlagTable
{
    private const ulong Empty = 0;
    private Slot[] _slots = [];
    private int _count;

    /// <summary>Meters heard from.</summary>
    public int Count => _count;

    public static ulong KeyOf(string meterId) => StableHash.Of(meterId) is var hash && hash == Empty ? 1 : hash;

    /// <summary>Room for <paramref name="meters"/> without growing.</summary>
    public void EnsureCapacity(int meters)
    {
        var needed = CapacityFor(meters);
        if (needed > _slots.Length)
        {
            Resize(needed);
        }
    }

    /// <summary>The meter's flags to change in place; default flags if the meter was not heard from before.</summary>
    public ref MeterPower GetOrAdd(string meterId) => ref GetOrAdd(KeyOf(meterId));

    /// <summary>Marks every dark meter whose key is not in <paramref name="keep"/> as having power (its newest event is
    /// kept, so a resend is still absorbed); returns how many there were.</summary>
    public int ForgetDarkExcept(IReadOnlySet<ulong> keep)
    {
        var forgotten = 0;
        for (var i = 0; i < _slots.Length; i++)
        {
            ref var slot = ref _slots[i];
            if (slot.Key != Empty && slot.Flags.DarkSince != 0 && !keep.Contains(slot.Key))
            {
                slot.Flags = slot.Flags with { DarkSince = 0 };
                forgotten++;
            }
        }
        return forgotten;
    }

    public bool TryGet(string meterId, out MeterPower flags)
    {
        var index = Find(KeyOf(meterId));
        flags = index >= 0 ? _slots[index].Flags : default;
        return index >= 0;
    }

    public Enumerator GetEnumerator() => new(_slots);

    private ref MeterPower GetOrAdd(ulong key)
    {
        if (CapacityFor(_count + 1) > _slots.Length)
        {
            Resize(CapacityFor(_count + 1));
        }
        var mask = _slots.Length - 1;
        for (var i = (int)(key & (ulong)mask); ; i = (i + 1) & mask)
        {
            ref var slot = ref _slots[i];
            if (slot.Key == key)
            {
                return ref slot.Flags;
            }
            if (slot.Key == Empty)
            {
                slot.Key = key;
                _count++;
                return ref slot.Flags;
            }
        }
    }

    private int Find(ulong key)
    {
        if (_slots.Length == 0)
        {
            return -1;
        }
        var mask = _slots.Length - 1;
        for (var i = (int)(key & (ulong)mask); ; i = (i + 1) & mask)
        {
            if (_slots[i].Key == key)
            {
                return i;
            }
            if (_slots[i].Key == Empty)
            {
                return -1;
            }
        }
    }

    /// <summary>A power of two that keeps the table at most three-quarters full.</summary>
    private static int CapacityFor(int meters) => meters == 0 ? 0 : (int)Math.Max(8, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)(meters + meters / 3 + 1)));

    private void Resize(int capacity)
    {
        var old = _slots;
        _slots = GC.AllocateArray<Slot>(capacity, pinned: true);
        _count = 0;
        foreach (var slot in old)
        {
            if (slot.Key != Empty)
            {
                GetOrAdd(slot.Key) = slot.Flags;
            }
        }
    }

    internal void Add(ulong key, MeterPower flags) => GetOrAdd(key == Empty ? 1 : key) = flags;

    [StructLayout(LayoutKind.Sequential)]
    internal struct Slot
    {
        public ulong Key;
        public MeterPower Flags;
    }

    public readonly record struct Entry(ulong Key, MeterPower Flags);

    public struct Enumerator(Slot[] slots)
    {
        private int _index = -1;

        public readonly Entry Current => new(slots[_index].Key, slots[_index].Flags);

        public bool MoveNext()
        {
            while (++_index < slots.Length)
            {
                if (slots[_index].Key != Empty)
                {
                    return true;
                }
            }
            return false;
        }
    }
}

/// <summary>The table as an object from hash (decimal) to the meter's flags.</summary>
internal sealed class MeterFlagTableJson : JsonConverter<MeterFlagTable>
{
    private static readonly MeterPowerJson Flags = new();

    public override MeterFlagTable Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("An area's meter flags are an object from meter-id hash to [lastAt, lastEvent, darkSince].");
        }
        var table = new MeterFlagTable();
        var entries = new List<(ulong, MeterPower)>();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var key = ulong.Parse(reader.GetString()!, NumberStyles.None, CultureInfo.InvariantCulture);
            reader.Read();
            entries.Add((key, Flags.Read(ref reader, typeof(MeterPower), options)));
        }
        table.EnsureCapacity(entries.Count);
        foreach (var (key, flags) in entries)
        {
            table.Add(key, flags);
        }
        return table;
    }

    public override void Write(Utf8JsonWriter writer, MeterFlagTable value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        Span<char> name = stackalloc char[20];
        foreach (var meter in value)
        {
            meter.Key.TryFormat(name, out var written, default, CultureInfo.InvariantCulture);
            writer.WritePropertyName(name[..written]);
            Flags.Write(writer, meter.Flags, options);
        }
        writer.WriteEndObject();
    }
}

/// <summary>A meter's flags as a three-number array instead of an object with three named fields: an area's flags are
/// rewritten every few seconds in a storm (the 1,000,000-meter storm wrote ~2 GB of them). Reads the object form of
/// flags stored before.</summary>
internal sealed class MeterPowerJson : JsonConverter<MeterPower>
{
    public override MeterPower Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.StartObject)
        {
            long lastAt = 0, darkSince = 0;
            ulong lastEvent = 0;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString();
                reader.Read();
                switch (name)
                {
                    case nameof(MeterPower.LastAt): lastAt = reader.GetInt64(); break;
                    case nameof(MeterPower.LastEvent): lastEvent = reader.GetUInt64(); break;
                    case nameof(MeterPower.DarkSince): darkSince = reader.GetInt64(); break;
                    default: reader.Skip(); break;
                }
            }
            return new MeterPower(lastAt, lastEvent, darkSince);
        }
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException("A meter's flags are [lastAt, lastEvent, darkSince].");
        }
        reader.Read();
        var at = reader.GetInt64();
        reader.Read();
        var eventHash = reader.GetUInt64();
        reader.Read();
        var dark = reader.GetInt64();
        reader.Read();
        if (reader.TokenType != JsonTokenType.EndArray)
        {
            throw new JsonException("A meter's flags are [lastAt, lastEvent, darkSince].");
        }
        return new MeterPower(at, eventHash, dark);
    }

    public override void Write(Utf8JsonWriter writer, MeterPower value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        writer.WriteNumberValue(value.LastAt);
        writer.WriteNumberValue(value.LastEvent);
        writer.WriteNumberValue(value.DarkSince);
        writer.WriteEndArray();
    }
}
