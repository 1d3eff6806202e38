namespace Fugue.Hosting.Protocol;

/// <summary>
/// Requests served, as one row of the <see cref="RequestTable"/> or a sum of rows: by status class (1xx to 5xx, and
/// anything else), in flight, the summed duration in microseconds and a histogram over <see cref="BucketBounds"/>.
/// Every count but in-flight only grows; sums saturate instead of wrapping, since a worker may have written anything.
/// </summary>
internal sealed class RequestCounts
{
    /// <summary>The upper bounds of the duration histogram's buckets, in seconds; the last bucket has none.</summary>
    public static readonly double[] BucketBounds = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    /// <summary>The status classes counted apart: <c>1xx</c> to <c>5xx</c>, then <c>other</c>.</summary>
    public static readonly string[] StatusClasses = ["1xx", "2xx", "3xx", "4xx", "5xx", "other"];

    public const int InFlightIndex = 0;
    private const int FirstStatus = 1;
    public const int DurationIndex = FirstStatus + 6;
    private const int FirstBucket = DurationIndex + 1;
    public static readonly int Length = FirstBucket + BucketBounds.Length + 1;

    public static readonly RequestCounts None = new(new long[Length]);

    private readonly long[] _values;

    private RequestCounts(long[] values) => _values = values;

    /// <summary>Requests in flight when read.</summary>
    public long InFlight => _values[InFlightIndex];

    /// <summary>Requests completed.</summary>
    public long Completed => Saturated(_values.AsSpan(FirstStatus, StatusClasses.Length));

    /// <summary>Requests completed in status class <paramref name="index"/> of <see cref="StatusClasses"/>.</summary>
    public long ByClass(int index) => _values[FirstStatus + index];

    /// <summary>The completed requests' durations, summed; at most <see cref="TimeSpan.MaxValue"/>, whatever a worker wrote.</summary>
    public TimeSpan Duration => _values[DurationIndex] > TimeSpan.MaxValue.Ticks / TimeSpan.TicksPerMicrosecond
        ? TimeSpan.MaxValue
        : TimeSpan.FromTicks(_values[DurationIndex] * TimeSpan.TicksPerMicrosecond);

    /// <summary>Completed requests that took at most <see cref="BucketBounds"/>[<paramref name="index"/>] (the last: any time).</summary>
    public long Bucket(int index) => _values[FirstBucket + index];

    public static int StatusIndex(int status) => FirstStatus + (status is >= 100 and < 600 ? (status / 100) - 1 : StatusClasses.Length - 1);

    public static int BucketIndex(TimeSpan elapsed)
    {
        double seconds = elapsed.TotalSeconds;
        int i = 0;
        while (i < BucketBounds.Length && seconds > BucketBounds[i])
        {
            i++;
        }
        return FirstBucket + i;
    }

    /// <summary>The upper bound in seconds of the bucket holding quantile <paramref name="q"/>; null without requests, infinity past the last bound.</summary>
    public double? Quantile(double q)
    {
        long total = Saturated(_values.AsSpan(FirstBucket, BucketBounds.Length + 1));
        if (total == 0)
        {
            return null;
        }
        long rank = (long)Math.Ceiling(q * total);
        long seen = 0;
        for (int i = 0; i < BucketBounds.Length; i++)
        {
            seen = Add(seen, Bucket(i));
            if (seen >= rank)
            {
                return BucketBounds[i];
            }
        }
        return double.PositiveInfinity;
    }

    /// <summary>A row read from shared memory, each value at zero or more.</summary>
    public static RequestCounts Clamped(long[] values) => new(Array.ConvertAll(values, v => Math.Max(0, v)));

    /// <summary>Each count the larger of the two (in-flight: <paramref name="now"/>'s): what a worker reported can only grow.</summary>
    public RequestCounts AtLeast(RequestCounts now)
    {
        var values = new long[Length];
        for (int i = 0; i < Length; i++)
        {
            values[i] = i == InFlightIndex ? now._values[i] : Math.Max(_values[i], now._values[i]);
        }
        return new RequestCounts(values);
    }

    /// <summary>The sum of both (in-flight included).</summary>
    public RequestCounts Plus(RequestCounts other)
    {
        var values = new long[Length];
        for (int i = 0; i < Length; i++)
        {
            values[i] = Add(_values[i], other._values[i]);
        }
        return new RequestCounts(values);
    }

    /// <summary>What was counted since <paramref name="earlier"/> (in flight: now).</summary>
    public RequestCounts Since(RequestCounts earlier)
    {
        var values = new long[Length];
        for (int i = 0; i < Length; i++)
        {
            values[i] = i == InFlightIndex ? _values[i] : Math.Max(0, _values[i] - earlier._values[i]);
        }
        return new RequestCounts(values);
    }

    /// <summary>The same counts with nothing in flight: what a worker that is gone leaves in the totals.</summary>
    public RequestCounts Settled()
    {
        long[] values = (long[])_values.Clone();
        values[InFlightIndex] = 0;
        return new RequestCounts(values);
    }

    /// <summary>The values as they go on the wire to a new master (<see cref="FromValues"/> reads them).</summary>
    public ReadOnlySpan<long> Values => _values;

    /// <summary>Values read back from a predecessor, or a hostile writer: too few are zeros, negatives are zeros.</summary>
    public static RequestCounts FromValues(ReadOnlySpan<long> values)
    {
        var copy = new long[Length];
        values[..Math.Min(values.Length, Length)].CopyTo(copy);
        return Clamped(copy);
    }

    private static long Saturated(ReadOnlySpan<long> values)
    {
        long sum = 0;
        foreach (long v in values)
        {
            sum = Add(sum, v);
        }
        return sum;
    }

    /// <summary>The sum of two counts of zero or more, at most <see cref="long.MaxValue"/>.</summary>
    public static long Add(long a, long b) => a > long.MaxValue - b ? long.MaxValue : a + b;
}
